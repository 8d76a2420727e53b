// CompileCache: a compile shares the previous compile's clusters and virtual
// hosts when nothing they are built from changed, and the snapshot is what a
// compile without the cache gives (issue 17: recompile only what a change
// reaches).
#include "compile/compile_cache.h"

#include <gtest/gtest.h>

#include <set>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

config::Port port(uint32_t number) { return config::Port{number, "HTTP", "http", 0}; }

class CompileCacheTest : public ::testing::Test {
 protected:
  CompileCacheTest() {
    r.gateway("istio-system", "gw", {server(80, {"*"})});
    r.service("default", "a", {service_port("http", 80)}, Labels{{"app", "a"}});
    r.pod("default", "a-1", "10.0.0.1", {{"app", "a"}, {"version", "v1"}});
    r.pod("default", "a-2", "10.0.0.2", {{"app", "a"}, {"version", "v2"}});
    r.destination_rule("default", "a", "a", {{"v1", {{"version", "v1"}}}, {"v2", {{"version", "v2"}}}});
    r.service_entry("default", "ext", {"ext.example.com"}, {port(80)}, "DNS");
    route("a.com", dest("a", 0, "v1"));
    route("ext.com", dest("ext.example.com"));
  }

  void route(const std::string& host, config::HTTPRouteDestination destination) {
    r.virtual_service("default", host, {host}, {"istio-system/gw"}, {rule({}, {std::move(destination)})});
  }

  CompileResult compile_cached(const config::ResourceSet& set, const DnsAnswers& dns = kDns) {
    return compile(set, GatewayIdentity{}, dns, &cache);
  }

  static std::set<size_t> slots(const Snapshot& s) {
    std::set<size_t> out;
    for (const auto& c : s.clusters) out.insert(c->index);
    return out;
  }

  static inline const DnsAnswers kDns = {{"ext.example.com", {"10.1.1.1", "10.1.1.2"}}};
  Resources r;
  CompileCache cache;
};

TEST_F(CompileCacheTest, ARouteChangeSharesTheClustersAndBuildsOnlyNewOnes) {
  CompileResult first = compile_cached(r.set);
  ASSERT_EQ(first.snapshot->clusters.size(), 2u);
  EXPECT_EQ(cache.clusters.shared_count(), 0u);

  route("b.com", dest("a", 0, "v2"));  // new VirtualService, new cluster; no cluster input changed
  CompileResult second = compile_cached(r.set);
  const Snapshot& s = *second.snapshot;
  ASSERT_EQ(s.clusters.size(), 3u);
  EXPECT_EQ(cache.clusters.shared_count(), 2u);
  for (const auto& name : {"outbound|80|v1|a.default.svc.cluster.local", "outbound|80||ext.example.com"})
    EXPECT_EQ(s.find_cluster(name), first.snapshot->find_cluster(name)) << name;

  // Slots: unique, below cluster_slots; a shared cluster keeps its own.
  EXPECT_EQ(slots(s).size(), 3u);
  for (const auto& c : s.clusters) EXPECT_LT(c->index, s.cluster_slots);

  // The same snapshot as a compile without the cache: clusters, endpoints,
  // diagnostics and DNS names.
  CompileResult fresh = compile(r.set, GatewayIdentity{}, kDns);
  ASSERT_EQ(fresh.snapshot->clusters.size(), s.clusters.size());
  for (size_t i = 0; i < s.clusters.size(); ++i) {
    EXPECT_EQ(s.clusters[i]->name, fresh.snapshot->clusters[i]->name);
    EXPECT_EQ(s.clusters[i]->endpoints.size(), fresh.snapshot->clusters[i]->endpoints.size());
  }
  EXPECT_EQ(second.dns_names, fresh.dns_names);
  EXPECT_EQ(second.dns_names, (std::set<std::string>{"ext.example.com"}));
  ASSERT_EQ(second.diagnostics.size(), fresh.diagnostics.size());
  for (size_t i = 0; i < fresh.diagnostics.size(); ++i)
    EXPECT_EQ(second.diagnostics[i].format(), fresh.diagnostics[i].format());
}

TEST_F(CompileCacheTest, AClusterNoRouteReachesIsGone) {
  Resources fewer = r;  // the same objects, shared
  route("b.com", dest("a", 0, "v2"));
  compile_cached(r.set);
  CompileResult second = compile_cached(fewer.set);
  EXPECT_EQ(second.snapshot->clusters.size(), 2u);
  EXPECT_EQ(second.snapshot->find_cluster("outbound|80|v2|a.default.svc.cluster.local"), nullptr);
  EXPECT_EQ(cache.clusters.shared_count(), 2u);
}

TEST_F(CompileCacheTest, AnyChangeToWhatClustersAreBuiltFromBuildsThemAll) {
  CompileResult first = compile_cached(r.set);
  Resources more = r;
  more.service_entry("default", "unrelated", {"unrelated.example.com"}, {port(80)});
  CompileResult second = compile_cached(more.set);
  EXPECT_EQ(cache.clusters.shared_count(), 0u);
  EXPECT_NE(second.snapshot->find_cluster("outbound|80||ext.example.com"),
            first.snapshot->find_cluster("outbound|80||ext.example.com"));

  // New DNS answers too: the DNS cluster gets the new addresses.
  compile_cached(more.set);
  EXPECT_EQ(cache.clusters.shared_count(), 2u);
  CompileResult third = compile_cached(more.set, DnsAnswers{{"ext.example.com", {"10.2.2.2"}}});
  EXPECT_EQ(cache.clusters.shared_count(), 0u);
  const upstream::ClusterInfo* ext = third.snapshot->find_cluster("outbound|80||ext.example.com");
  ASSERT_NE(ext, nullptr);
  ASSERT_EQ(ext->endpoints.size(), 1u);
  EXPECT_EQ(ext->endpoints[0].address, "10.2.2.2");
}

TEST_F(CompileCacheTest, WhatBuildingAClusterReportedIsReportedAgainWhenShared) {
  config::DestinationRule& rule = r.destination_rule("default", "ext", "ext.example.com", {});
  rule.traffic_policy.emplace().tls.emplace();
  rule.traffic_policy->tls->mode = "SIMPLE";
  rule.traffic_policy->tls->credential_name = "missing";
  CompileResult first = compile_cached(r.set);
  auto reported = [](const CompileResult& c) {
    for (const auto& d : c.diagnostics)
      if (d.message.find("credentialName") != std::string::npos) return true;
    return false;
  };
  ASSERT_TRUE(reported(first));
  route("b.com", dest("ext.example.com"));
  CompileResult second = compile_cached(r.set);
  EXPECT_EQ(cache.clusters.shared_count(), 2u);
  EXPECT_TRUE(reported(second));
}

TEST_F(CompileCacheTest, SlotsStayFewWhenClustersComeAndGo) {
  // Each compile routes to a cluster the previous one did not have: new
  // slots, until they are numbered from zero again.
  // (The subset cluster a/v2 is dropped with the route that reaches it, and
  // built again, in a new slot, when a route comes back to it.)
  Resources base = r;
  for (int i = 0; i < 200; ++i) {
    Resources with = base;
    with.virtual_service("default", "x", {"x.com"}, {"istio-system/gw"},
                         {rule({}, {dest(i % 2 == 0 ? "a" : "ext.example.com", 0, i % 2 == 0 ? "v2" : "")})});
    CompileResult c = compile_cached(with.set);
    EXPECT_LE(c.snapshot->cluster_slots, 2 * c.snapshot->clusters.size() + 64 + 1);
    EXPECT_EQ(slots(*c.snapshot).size(), c.snapshot->clusters.size());
  }
}

const router::VirtualHost* vhost(const CompileResult& c, const std::string& domain) {
  return c.snapshot->listeners.at(0).routes->find_domain(domain);
}

TEST_F(CompileCacheTest, ARouteChangeSharesTheOtherVirtualHosts) {
  CompileResult first = compile_cached(r.set);
  EXPECT_EQ(first.virtual_hosts_shared, 0u);
  const router::VirtualHost* a = vhost(first, "a.com");
  ASSERT_NE(a, nullptr);

  route("b.com", dest("a", 0, "v2"));
  CompileResult second = compile_cached(r.set);
  EXPECT_EQ(second.virtual_hosts_shared, 2u);  // a.com and ext.com; b.com is new
  EXPECT_EQ(vhost(second, "a.com"), a);        // the very same object
  ASSERT_NE(vhost(second, "b.com"), nullptr);
  // A shared route's cluster is one of the new snapshot's.
  const upstream::ClusterInfo* cluster = a->routes.at(0).action.clusters.at(0).cluster;
  EXPECT_EQ(cluster, second.snapshot->find_cluster("outbound|80|v1|a.default.svc.cluster.local"));

  // The same requests get the same answers as from a compile without the cache.
  CompileResult fresh = compile(r.set, GatewayIdentity{}, kDns);
  for (const char* host : {"a.com", "b.com", "ext.com"}) {
    const router::VirtualHost* cached = vhost(second, host);
    const router::VirtualHost* built = vhost(fresh, host);
    ASSERT_NE(cached, nullptr);
    ASSERT_NE(built, nullptr);
    ASSERT_EQ(cached->routes.size(), built->routes.size()) << host;
    for (size_t i = 0; i < built->routes.size(); ++i) {
      EXPECT_EQ(cached->routes[i].stats_key, built->routes[i].stats_key);
      EXPECT_EQ(cached->routes[i].action.clusters.at(0).name, built->routes[i].action.clusters.at(0).name);
    }
  }
}

TEST_F(CompileCacheTest, AClusterInputChangeTranslatesEveryVirtualService) {
  compile_cached(r.set);
  Resources more = r;
  more.service_entry("default", "unrelated", {"unrelated.example.com"}, {port(80)});
  CompileResult second = compile_cached(more.set);
  EXPECT_EQ(second.virtual_hosts_shared, 0u);
  const upstream::ClusterInfo* cluster = vhost(second, "a.com")->routes.at(0).action.clusters.at(0).cluster;
  EXPECT_EQ(cluster, second.snapshot->find_cluster("outbound|80|v1|a.default.svc.cluster.local"));
}

TEST_F(CompileCacheTest, WhatTranslatingReportedIsReportedAgainWhenShared) {
  route("nowhere.com", dest("nowhere.example.com"));  // no such service: a warning, and 503 NC
  CompileResult first = compile_cached(r.set);
  auto reported = [](const CompileResult& c) {
    for (const auto& d : c.diagnostics)
      if (d.message.find("nowhere.example.com") != std::string::npos) return true;
    return false;
  };
  ASSERT_TRUE(reported(first));
  route("b.com", dest("a", 0, "v2"));
  CompileResult second = compile_cached(r.set);
  EXPECT_EQ(vhost(second, "nowhere.com"), vhost(first, "nowhere.com"));
  EXPECT_TRUE(reported(second));
}

TEST_F(CompileCacheTest, AGatewayChangeThatReachesAVirtualHostRebuildsIt) {
  CompileResult first = compile_cached(r.set);
  // The same VS objects; the Gateway now redirects plaintext to HTTPS.
  Resources redirected;
  redirected.set = r.set;
  config::Gateway gateway = r.set.gateways.front();
  gateway.servers.front().tls.emplace().https_redirect = true;
  redirected.set.gateways = config::ObjectList<config::Gateway>{gateway};
  CompileResult second = compile_cached(redirected.set);
  EXPECT_EQ(second.virtual_hosts_shared, 0u);
  EXPECT_TRUE(vhost(second, "a.com")->require_tls);
  EXPECT_FALSE(vhost(first, "a.com")->require_tls);
}

// A root VS's merged copy is made anew by every compile, and may take the
// address of the last compile's copy: it is never shared from the cache, so
// a changed delegate reaches the root's virtual host. Whether the allocator
// reuses the address is luck (never under ASan), so this checks the
// behaviour; RouteCacheTest.KeepsOnlyTheListsVirtualServices checks the
// cache's rule itself, deterministically.
TEST_F(CompileCacheTest, AChangedDelegateReachesItsRootThoughTheRootIsTheSameObject) {
  config::HTTPRoute to_delegate = rule({}, {});
  to_delegate.delegate = config::Delegate{"d", "default"};
  r.virtual_service("default", "root", {"root.com"}, {"istio-system/gw"}, {to_delegate});
  Resources v1 = r;
  v1.virtual_service("default", "d", {}, {}, {rule({}, {dest("a", 0, "v1")})});
  Resources v2 = r;  // the same root object; a new delegate
  v2.virtual_service("default", "d", {}, {}, {rule({}, {dest("a", 0, "v2")})});
  auto root_cluster = [](const CompileResult& c) {
    return vhost(c, "root.com")->routes.at(0).action.clusters.at(0).name;
  };
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(root_cluster(compile_cached(v1.set)), "outbound|80|v1|a.default.svc.cluster.local");
    EXPECT_EQ(root_cluster(compile_cached(v2.set)), "outbound|80|v2|a.default.svc.cluster.local");
  }
}

// keep() takes only VirtualServices of the list begin() was given: an
// object a compile made (a merged root) is gone after it, and the next
// compile's may take its address.
TEST(RouteCacheTest, KeepsOnlyTheListsVirtualServices) {
  Resources r;
  r.virtual_service("default", "listed", {"a.com"}, {"istio-system/gw"}, {rule({}, {dest("a")})});
  config::VirtualService made = r.set.virtual_services.front();  // a copy: another object
  RouteCache cache;
  // Past the scan budget too: the sorted lookup must agree with the scan.
  for (int round = 0; round < 2; ++round) {
    cache.begin(r.set.virtual_services, /*clusters_shared=*/true);
    for (int i = 0; i < 20; ++i) {
      const std::string table = "t" + std::to_string(i);
      cache.keep(RouteCache::Key{&made, table, "istio-system/gw", 80, false}, RouteCache::Entry{});
      cache.keep(RouteCache::Key{&r.set.virtual_services.front(), table, "istio-system/gw", 80, false},
                 RouteCache::Entry{});
      EXPECT_EQ(cache.find(RouteCache::Key{&made, table, "istio-system/gw", 80, false}), nullptr) << i;
      EXPECT_NE(
          cache.find(RouteCache::Key{&r.set.virtual_services.front(), table, "istio-system/gw", 80, false}),
          nullptr)
          << i;
    }
    EXPECT_EQ(
        cache.find(RouteCache::Key{&r.set.virtual_services.front(), "t0", "istio-system/gw", 81, false}),
        nullptr);  // another port
    cache.end();
  }
}

}  // namespace
}  // namespace torii::compile
