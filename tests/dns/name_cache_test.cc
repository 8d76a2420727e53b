// NameCache against a real dnsmasq: TTL-driven refresh, removal, grace.
#include "dns/name_cache.h"

#include <gtest/gtest.h>

#include "dnsmasq.h"
#include "run_until.h"

namespace torii::dns {
namespace {

using testing::Dnsmasq;
using testing::run_until;

std::vector<std::string> addresses_of(const NameCache& cache, const std::string& name) {
  auto names = cache.current();
  auto it = names->find(name);
  return it == names->end() ? std::vector<std::string>{} : it->second.addresses;
}

struct Fixture {
  explicit Fixture(uint32_t ttl_s, RefreshPolicy policy) : dns(ttl_s) {
    dns.set("api.example.test", {"127.0.0.2"});
    resolver = std::make_unique<Resolver>(
        loop, ResolverOptions{.servers = {dns.server()}, .query_timeout_ms = 200, .tries = 1});
    cache = std::make_unique<NameCache>(loop, *resolver, policy, [this] { ++changes; });
  }
  Dnsmasq dns;
  net::EventLoop loop;
  std::unique_ptr<Resolver> resolver;
  std::unique_ptr<NameCache> cache;
  int changes = 0;
};

RefreshPolicy fast_policy() {
  return RefreshPolicy{.default_refresh_ms = 1000,
                       .min_refresh_ms = 1000,
                       .failure_backoff_base_ms = 100,
                       .failure_backoff_max_ms = 200,
                       .grace_ms = 1500};
}

TEST(NameCacheTest, FollowsTheRecordAfterItsTtl) {
  Fixture f(1, fast_policy());
  f.cache->set_names({"api.example.test"});
  ASSERT_TRUE(run_until(f.loop, [&] {
    return addresses_of(*f.cache, "api.example.test") == std::vector<std::string>{"127.0.0.2"};
  }));
  EXPECT_EQ(f.cache->current()->at("api.example.test").ttl_s, 1u);

  f.dns.set("api.example.test", {"127.0.0.4", "127.0.0.5"});
  // TTL 1 s: the cache asks again within about a second.
  EXPECT_TRUE(run_until(
      f.loop,
      [&] {
        return addresses_of(*f.cache, "api.example.test") ==
               std::vector<std::string>{"127.0.0.4", "127.0.0.5"};
      },
      10000));  // generous: a loaded machine
  EXPECT_GE(f.changes, 2);
}

TEST(NameCacheTest, NameThatStopsResolvingIsKeptForTheGracePeriodThenDropped) {
  Fixture f(1, fast_policy());
  f.cache->set_names({"api.example.test"});
  ASSERT_TRUE(run_until(f.loop, [&] { return !addresses_of(*f.cache, "api.example.test").empty(); }));

  f.dns.remove("api.example.test");
  ASSERT_TRUE(run_until(
      f.loop, [&] { return f.cache->current()->at("api.example.test").stale; }, 10000));
  const NameState stale = f.cache->current()->at("api.example.test");
  EXPECT_EQ(stale.addresses, std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(stale.last_status, Resolution::Status::kNotFound);

  EXPECT_TRUE(run_until(
      f.loop, [&] { return addresses_of(*f.cache, "api.example.test").empty(); }, 10000));
  EXPECT_FALSE(f.cache->current()->at("api.example.test").stale);
}

TEST(NameCacheTest, RemovedNamesAreForgottenAndNewOnesResolved) {
  Fixture f(30, fast_policy());
  f.dns.set("b.example.test", {"127.0.0.7"});
  f.cache->set_names({"api.example.test"});
  ASSERT_TRUE(run_until(f.loop, [&] { return !addresses_of(*f.cache, "api.example.test").empty(); }));
  f.cache->set_names({"b.example.test"});
  EXPECT_EQ(f.cache->current()->count("api.example.test"), 0u);
  EXPECT_TRUE(run_until(f.loop, [&] {
    return addresses_of(*f.cache, "b.example.test") == std::vector<std::string>{"127.0.0.7"};
  }));
}

}  // namespace
}  // namespace torii::dns
