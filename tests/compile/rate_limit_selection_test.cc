#include "compile/rate_limit_selection.h"

#include <gtest/gtest.h>

namespace torii::compile {
namespace {

config::LocalRateLimitConfig limit(std::string prefix, uint64_t max_tokens) {
  config::LocalRateLimitConfig c;
  c.stat_prefix = std::move(prefix);
  c.has_token_bucket = true;
  c.max_tokens = max_tokens;
  c.fill_interval_ms = 3600000;
  c.enabled_per_million = 1000000;
  c.enforced_per_million = 1000000;
  return c;
}

config::EnvoyFilterPatch filter_patch(config::LocalRateLimitConfig c) {
  config::EnvoyFilterPatch p;
  p.apply_to = "HTTP_FILTER";
  p.context = "GATEWAY";
  p.operation = "INSERT_BEFORE";
  p.filter_name = "envoy.filters.http.local_ratelimit";
  p.rate_limit = std::move(c);
  return p;
}

config::EnvoyFilterPatch route_patch(std::string vhost, std::string route, config::LocalRateLimitConfig c) {
  config::EnvoyFilterPatch p;
  p.apply_to = "HTTP_ROUTE";
  p.context = "GATEWAY";
  p.operation = "MERGE";
  p.vhost_name = std::move(vhost);
  p.route_name = std::move(route);
  p.route_action = "ANY";
  p.rate_limit = std::move(c);
  return p;
}

config::EnvoyFilter envoy_filter(std::string ns, std::optional<config::Labels> selector,
                                 std::vector<config::EnvoyFilterPatch> patches) {
  config::EnvoyFilter ef;
  ef.meta.namespace_ = std::move(ns);
  ef.meta.name = "rl";
  ef.selector = std::move(selector);
  ef.patches = std::move(patches);
  return ef;
}

std::vector<Listener> listeners_with_routes() {
  auto table = std::make_shared<router::RouteTable>();
  router::VirtualHost& vhost = table->add_virtual_host("*");
  vhost.routes.resize(2);
  vhost.routes[0].name = "limited";
  vhost.routes[1].name = "free";
  table->finalize();
  Listener l;
  l.name = "0.0.0.0_80";
  l.gateway_port = 80;
  l.routes = table;
  std::vector<Listener> out;
  out.push_back(std::move(l));
  return out;
}

TEST(RateLimitSelection, SelectorAndNamespace) {
  const GatewayIdentity gw;  // istio-system, istio=ingressgateway
  const auto listeners = listeners_with_routes();
  EXPECT_TRUE(select_rate_limits({envoy_filter("istio-system", std::nullopt, {filter_patch(limit("a", 1))})},
                                 gw, listeners)
                  .gateway);
  EXPECT_TRUE(select_rate_limits({envoy_filter("istio-system", config::Labels{{"istio", "ingressgateway"}},
                                               {filter_patch(limit("a", 1))})},
                                 gw, listeners)
                  .gateway);
  EXPECT_FALSE(select_rate_limits({envoy_filter("istio-system", config::Labels{{"app", "productpage"}},
                                                {filter_patch(limit("a", 1))})},
                                  gw, listeners)
                   .gateway);
  EXPECT_FALSE(select_rate_limits({envoy_filter("default", std::nullopt, {filter_patch(limit("a", 1))})}, gw,
                                  listeners)
                   .gateway);
  config::EnvoyFilterPatch sidecar = filter_patch(limit("a", 1));
  sidecar.context = "SIDECAR_INBOUND";
  EXPECT_FALSE(
      select_rate_limits({envoy_filter("istio-system", std::nullopt, {sidecar})}, gw, listeners).gateway);
}

TEST(RateLimitSelection, RoutePatchNeedsTheFilterAndMatchesByName) {
  const GatewayIdentity gw;
  const auto listeners = listeners_with_routes();
  const router::VirtualHost& vhost = *listeners[0].routes->virtual_hosts()[0];
  // Without the inserted filter, typed_per_filter_config does nothing (as in Envoy).
  EXPECT_FALSE(select_rate_limits({envoy_filter("istio-system", std::nullopt,
                                                {route_patch("*:80", "limited", limit("r", 3))})},
                                  gw, listeners)
                   .gateway);
  config::LocalRateLimitConfig inert;
  inert.stat_prefix = "g";
  const RateLimitPolicy p =
      select_rate_limits({envoy_filter("istio-system", std::nullopt,
                                       {filter_patch(inert), route_patch("*:80", "limited", limit("r", 3)),
                                        route_patch("*:8080", "free", limit("other-port", 3))})},
                         gw, listeners);
  ASSERT_TRUE(p.gateway);
  EXPECT_FALSE(p.gateway->bucket);  // only stat_prefix: never limits
  const router::LocalRateLimit* limited = p.find(&vhost, &vhost.routes[0]);
  ASSERT_NE(limited, nullptr);
  EXPECT_EQ(limited->stat_prefix, "r");
  ASSERT_TRUE(limited->bucket);
  EXPECT_EQ(limited->bucket->max_tokens(), 3u);
  EXPECT_EQ(p.find(&vhost, &vhost.routes[1]), p.gateway.get());
}

TEST(RateLimitSelection, UnchangedLimitKeepsItsBucketAcrossCompiles) {
  const GatewayIdentity gw;
  const auto listeners = listeners_with_routes();
  const std::vector<config::EnvoyFilter> filters = {
      envoy_filter("istio-system", std::nullopt, {filter_patch(limit("keep", 5))})};
  const RateLimitPolicy first = select_rate_limits(filters, gw, listeners);
  ASSERT_TRUE(first.gateway->bucket->try_consume());
  const RateLimitPolicy second = select_rate_limits(filters, gw, listeners);
  EXPECT_EQ(second.gateway->bucket, first.gateway->bucket);
  EXPECT_EQ(second.gateway->bucket->remaining(), 4u);
  const RateLimitPolicy changed = select_rate_limits(
      {envoy_filter("istio-system", std::nullopt, {filter_patch(limit("keep", 6))})}, gw, listeners);
  EXPECT_NE(changed.gateway->bucket, first.gateway->bucket);
  EXPECT_EQ(changed.gateway->bucket->remaining(), 6u);
  EXPECT_EQ(changed.gateway->counters, first.gateway->counters);  // same stat_prefix, same counters
}

}  // namespace
}  // namespace torii::compile
