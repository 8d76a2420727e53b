// DynamicHostCache against a real dnsmasq: a ClusterInfo per (cluster, name,
// port) carrying the compiled policy, cached for the TTL, failures not
// cached, cancelled callers not called, bounded size.
#include "proxy/dynamic_host_cache.h"

#include <gtest/gtest.h>

#include "../dns/dnsmasq.h"
#include "../dns/run_until.h"

namespace torii::proxy {
namespace {

using dns::testing::Dnsmasq;
using dns::testing::run_until;

struct Fixture {
  explicit Fixture(uint32_t max_hosts = 1024) : dns(1), clusters(loop, 1000, 1) {
    DynamicHostOptions options;
    options.resolver = dns::ResolverOptions{.servers = {dns.server()}, .query_timeout_ms = 200, .tries = 1};
    options.min_ttl_ms = 1000;
    options.max_hosts = max_hosts;
    cache = std::make_unique<DynamicHostCache>(loop, clusters, options);
    compiled.name = "outbound|8080||*.example.test";
    compiled.port = 8080;
    compiled.policy.write().limits.max_requests = 7;
  }
  // Looks `host` up and runs the loop until the answer; null on failure.
  std::shared_ptr<const upstream::ClusterInfo> lookup(const std::string& host, bool* synchronous = nullptr) {
    bool done = false;
    std::shared_ptr<const upstream::ClusterInfo> out;
    auto token = std::make_shared<int>(0);
    cache->lookup(compiled, snapshot_version, host, 8080, token,
                  [&](std::shared_ptr<const upstream::ClusterInfo> c, std::string_view) {
                    out = std::move(c);
                    done = true;
                  });
    if (synchronous != nullptr) *synchronous = done;
    EXPECT_TRUE(run_until(loop, [&] { return done; }));
    return out;
  }
  // dnsmasq reloads its records on SIGHUP, asynchronously: retry (failures
  // are not cached) until the name resolves.
  std::shared_ptr<const upstream::ClusterInfo> lookup_resolved(const std::string& host) {
    for (int i = 0; i < 100; ++i) {
      if (auto c = lookup(host)) return c;
      run_until(
          loop, [] { return false; }, 20);
    }
    return nullptr;
  }

  Dnsmasq dns;
  net::EventLoop loop;
  upstream::ClusterManager clusters;
  std::unique_ptr<DynamicHostCache> cache;
  upstream::ClusterInfo compiled;
  uint64_t snapshot_version = 1;
};

TEST(DynamicHostCacheTest, ResolvesIntoTheCompiledClusterAndCaches) {
  Fixture f;
  f.dns.set("a.example.test", {"127.0.0.7", "127.0.0.8"});
  auto cluster = f.lookup_resolved("a.example.test");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->name, "outbound|8080||*.example.test");
  EXPECT_EQ(cluster->policy->limits.max_requests, 7u);
  ASSERT_EQ(cluster->endpoints.size(), 2u);
  EXPECT_EQ(cluster->endpoints[0].address, "127.0.0.7");
  EXPECT_EQ(cluster->endpoints[0].port, 8080);
  EXPECT_EQ(cluster->endpoints[0].hostname, "a.example.test");
  // Cached: answered at once, the same object.
  bool synchronous = false;
  auto again = f.lookup("a.example.test", &synchronous);
  EXPECT_TRUE(synchronous);
  EXPECT_EQ(again, cluster);
  // DNS names ignore case: the same entry, no second resolution.
  synchronous = false;
  EXPECT_EQ(f.lookup("A.Example.TEST", &synchronous), cluster);
  EXPECT_TRUE(synchronous);
}

TEST(DynamicHostCacheTest, ANewSnapshotsClusterAtTheSameAddressIsNotMistakenForTheOld) {
  Fixture f;
  f.dns.set("a.example.test", {"127.0.0.7"});
  auto first = f.lookup_resolved("a.example.test");
  ASSERT_NE(first, nullptr);
  // A reload compiled a new cluster that happens to live where the old one
  // did (here: the same object, changed), with another policy.
  f.compiled.policy.write().limits.max_requests = 9;
  f.snapshot_version = 2;
  auto second = f.lookup("a.example.test");
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second, first);
  EXPECT_EQ(second->policy->limits.max_requests, 9u);
}

TEST(DynamicHostCacheTest, FailuresAreNotCached) {
  Fixture f;
  EXPECT_EQ(f.lookup("missing.example.test"), nullptr);
  EXPECT_EQ(f.cache->size(), 0u);
  f.dns.set("missing.example.test", {"127.0.0.9"});
  auto cluster = f.lookup_resolved("missing.example.test");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->endpoints.at(0).address, "127.0.0.9");
}

TEST(DynamicHostCacheTest, CancelledCallersAreNotCalled) {
  Fixture f;
  f.dns.set("a.example.test", {"127.0.0.7"});
  ASSERT_NE(f.lookup_resolved("a.example.test"), nullptr);
  f.cache = std::make_unique<DynamicHostCache>(
      f.loop, f.clusters,
      DynamicHostOptions{.resolver = dns::ResolverOptions{
                             .servers = {f.dns.server()}, .query_timeout_ms = 200, .tries = 1}});
  int calls = 0;
  auto token = std::make_shared<int>(0);
  f.cache->lookup(f.compiled, 1, "a.example.test", 8080, token,
                  [&](std::shared_ptr<const upstream::ClusterInfo>, std::string_view) { ++calls; });
  token.reset();
  EXPECT_NE(f.lookup("a.example.test"), nullptr);  // the same query answers both
  EXPECT_EQ(calls, 0);
}

TEST(DynamicHostCacheTest, BoundedSize) {
  Fixture f(2);
  for (const char* name : {"a.example.test", "b.example.test", "c.example.test"}) {
    f.dns.set(name, {"127.0.0.7"});
    EXPECT_NE(f.lookup_resolved(name), nullptr);
  }
  EXPECT_EQ(f.cache->size(), 2u);
}

TEST(DynamicHostCacheTest, FullOfPendingNamesRefusesANewOneAtOnce) {
  Fixture f(1);
  f.dns.set("a.example.test", {"127.0.0.7"});
  bool first_done = false;
  auto token = std::make_shared<int>(0);
  f.cache->lookup(f.compiled, f.snapshot_version, "a.example.test", 8080, token,
                  [&](std::shared_ptr<const upstream::ClusterInfo>, std::string_view) { first_done = true; });
  ASSERT_FALSE(first_done);  // resolving
  bool refused = false;
  std::string error;
  f.cache->lookup(f.compiled, f.snapshot_version, "b.example.test", 8080, token,
                  [&](std::shared_ptr<const upstream::ClusterInfo> c, std::string_view e) {
                    refused = c == nullptr;
                    error = e;
                  });
  EXPECT_TRUE(refused);  // at once, not after a resolution
  EXPECT_NE(error.find("cache full"), std::string::npos) << error;
  EXPECT_EQ(f.cache->size(), 1u);
  EXPECT_TRUE(run_until(f.loop, [&] { return first_done; }));
}

TEST(DynamicHostCacheTest, FreedClusterIsUnboundFromItsWorkerState) {
  Fixture f;
  f.dns.set("a.example.test", {"127.0.0.7"});
  auto cluster = f.lookup_resolved("a.example.test");
  ASSERT_NE(cluster, nullptr);
  const upstream::ClusterInfo* raw = cluster.get();
  upstream::ClusterState& state = f.clusters.cluster(*cluster);
  state.bind(*cluster);
  EXPECT_TRUE(state.bound_to(raw));
  f.cache.reset();  // drops the cache's reference
  cluster.reset();  // and the last one
  EXPECT_FALSE(state.bound_to(raw));
}

}  // namespace
}  // namespace torii::proxy
