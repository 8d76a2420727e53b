// c-ares on the event loop, against a real dnsmasq on loopback.
#include "dns/resolver.h"

#include <gtest/gtest.h>

#include <optional>

#include "dnsmasq.h"
#include "run_until.h"

namespace torii::dns {
namespace {

using testing::Dnsmasq;
using testing::run_until;

Resolution resolve_once(net::EventLoop& loop, Resolver& r, const std::string& host) {
  std::optional<Resolution> got;
  r.resolve(host, [&](const Resolution& res) { got = res; });
  EXPECT_TRUE(run_until(loop, [&] { return got.has_value(); }));
  return got.value_or(Resolution{});
}

// dnsmasq reads its hosts file on SIGHUP, a moment after a change: ask
// until the name resolves.
Resolution resolve_when_up(net::EventLoop& loop, Resolver& r, const std::string& host) {
  Resolution res;
  for (int i = 0; i < 50; ++i) {
    res = resolve_once(loop, r, host);
    if (res.status == Resolution::Status::kOk) break;
    run_until(
        loop, [] { return false; }, 20);
  }
  return res;
}

TEST(ResolverTest, ResolvesEveryAddressWithItsTtl) {
  Dnsmasq dns(7);
  dns.set("api.example.test", {"127.0.0.3", "127.0.0.2"});
  net::EventLoop loop;
  Resolver r(loop, {.servers = {dns.server()}, .query_timeout_ms = 300, .tries = 2});
  ASSERT_EQ(r.init_error(), "");
  const Resolution res = resolve_when_up(loop, r, "api.example.test");
  ASSERT_EQ(res.status, Resolution::Status::kOk) << res.error;
  EXPECT_EQ(res.addresses, (std::vector<std::string>{"127.0.0.2", "127.0.0.3"}));
  EXPECT_EQ(res.ttl_s, 7u);
  EXPECT_EQ(r.pending(), 0u);
}

TEST(ResolverTest, UnknownNameIsNotFound) {
  Dnsmasq dns(5);
  dns.set("api.example.test", {"127.0.0.2"});
  net::EventLoop loop;
  Resolver r(loop, {.servers = {dns.server()}, .query_timeout_ms = 300, .tries = 2});
  ASSERT_EQ(resolve_when_up(loop, r, "api.example.test").status, Resolution::Status::kOk);
  const Resolution res = resolve_once(loop, r, "nope.example.test");
  EXPECT_EQ(res.status, Resolution::Status::kNotFound) << res.error;
  EXPECT_TRUE(res.addresses.empty());
}

TEST(ResolverTest, DeadServerFailsAfterItsTimeouts) {
  net::EventLoop loop;
  // Nothing listens on this port (reserved, never bound): the query is refused or times out.
  Resolver r(loop, {.servers = {"127.0.0.1:" + std::to_string(torii::testing::reserve_port())},
                    .query_timeout_ms = 100,
                    .tries = 2});
  const Resolution res = resolve_once(loop, r, "api.example.test");
  EXPECT_EQ(res.status, Resolution::Status::kFailed);
  EXPECT_FALSE(res.error.empty());
}

TEST(ResolverTest, LiteralAnswersWithoutAServerButNeverInsideResolve) {
  net::EventLoop loop;
  Resolver r(loop, {.servers = {"127.0.0.1:1"}, .query_timeout_ms = 100, .tries = 1});
  bool called = false;
  Resolution got;
  r.resolve("127.0.0.9", [&](const Resolution& res) {
    called = true;
    got = res;
  });
  EXPECT_FALSE(called);
  ASSERT_TRUE(run_until(loop, [&] { return called; }));
  EXPECT_EQ(got.status, Resolution::Status::kOk);
  EXPECT_EQ(got.addresses, std::vector<std::string>{"127.0.0.9"});
}

TEST(ResolverTest, BadServerAddressIsAnInitError) {
  net::EventLoop loop;
  Resolver r(loop, {.servers = {"not-an-ip:53"}});
  EXPECT_NE(r.init_error(), "");
  bool called = false;
  r.resolve("a.example.test", [&](const Resolution& res) {
    called = true;
    EXPECT_EQ(res.status, Resolution::Status::kFailed);
  });
  EXPECT_TRUE(run_until(loop, [&] { return called; }));
}

TEST(ResolverTest, DestroyingWithQueriesInFlightCallsNothing) {
  net::EventLoop loop;
  bool called = false;
  {
    Resolver r(loop, {.servers = {"127.0.0.1:" + std::to_string(torii::testing::reserve_port())},
                      .query_timeout_ms = 5000,
                      .tries = 1});
    r.resolve("a.example.test", [&](const Resolution&) { called = true; });
    r.resolve("127.0.0.1", [&](const Resolution&) { called = true; });  // posted answer
  }
  run_until(
      loop, [] { return false; }, 50);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace torii::dns
