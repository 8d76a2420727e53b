#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

constexpr const char* kApi = "networking.istio.io/v1alpha3";

// The Istio task's gateway filter (tasks/policy-enforcement/rate-limit).
constexpr const char* kGatewayFilter = R"(workloadSelector:
  labels:
    istio: ingressgateway
configPatches:
- applyTo: HTTP_FILTER
  match:
    context: GATEWAY
    listener:
      filterChain:
        filter:
          name: "envoy.filters.network.http_connection_manager"
  patch:
    operation: INSERT_BEFORE
    value:
      name: envoy.filters.http.local_ratelimit
      typed_config:
        "@type": type.googleapis.com/udpa.type.v1.TypedStruct
        type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
        value:
          stat_prefix: http_local_rate_limiter
          token_bucket:
            max_tokens: 4
            tokens_per_fill: 4
            fill_interval: 60s
          filter_enabled:
            runtime_key: local_rate_limit_enabled
            default_value:
              numerator: 100
              denominator: HUNDRED
          filter_enforced:
            runtime_key: local_rate_limit_enforced
            default_value:
              numerator: 50
              denominator: TEN_THOUSAND
          response_headers_to_add:
          - append: false
            header:
              key: x-local-rate-limit
              value: 'true'
- applyTo: HTTP_ROUTE
  match:
    context: GATEWAY
    routeConfiguration:
      vhost:
        name: "*:8080"
        route:
          action: ANY
  patch:
    operation: MERGE
    value:
      typed_per_filter_config:
        envoy.filters.http.local_ratelimit:
          "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          stat_prefix: per_route
          token_bucket: {max_tokens: 2, fill_interval: 1h}
)";

LoadResult load_filter(const std::string& spec) {
  return testing::load(testing::object(kApi, "EnvoyFilter", spec, "filter-local-ratelimit", "istio-system"));
}

TEST(EnvoyFilter, ParsesTheIstioTaskManifest) {
  const LoadResult r = load_filter(kGatewayFilter);
  ASSERT_TRUE(testing::no_errors(r));
  const ResourceSet resources = r.resources();
  ASSERT_EQ(resources.envoy_filters.size(), 1u);
  const EnvoyFilter& ef = resources.envoy_filters[0];
  ASSERT_TRUE(ef.selector.has_value());
  EXPECT_EQ(ef.selector->at("istio"), "ingressgateway");
  ASSERT_EQ(ef.patches.size(), 2u);
  const EnvoyFilterPatch& filter = ef.patches[0];
  EXPECT_EQ(filter.apply_to, "HTTP_FILTER");
  EXPECT_EQ(filter.context, "GATEWAY");
  EXPECT_EQ(filter.operation, "INSERT_BEFORE");
  ASSERT_TRUE(filter.rate_limit.has_value());
  const LocalRateLimitConfig& c = *filter.rate_limit;
  EXPECT_EQ(c.stat_prefix, "http_local_rate_limiter");
  EXPECT_TRUE(c.has_token_bucket);
  EXPECT_EQ(c.max_tokens, 4u);
  EXPECT_EQ(c.tokens_per_fill, 4u);
  EXPECT_EQ(c.fill_interval_ms, 60000);
  EXPECT_EQ(c.enabled_per_million, 1000000u);
  EXPECT_EQ(c.enforced_per_million, 5000u);  // 50 / 10000 = 0.5 %
  ASSERT_EQ(c.response_headers_to_add.size(), 1u);
  EXPECT_EQ(c.response_headers_to_add[0].key, "x-local-rate-limit");
  EXPECT_FALSE(c.response_headers_to_add[0].append);
  const EnvoyFilterPatch& route = ef.patches[1];
  EXPECT_EQ(route.apply_to, "HTTP_ROUTE");
  EXPECT_EQ(route.vhost_name, "*:8080");
  EXPECT_EQ(route.route_action, "ANY");
  ASSERT_TRUE(route.rate_limit.has_value());
  EXPECT_EQ(route.rate_limit->stat_prefix, "per_route");
  EXPECT_EQ(route.rate_limit->tokens_per_fill, 1u);      // default
  EXPECT_EQ(route.rate_limit->enabled_per_million, 0u);  // absent: 0 %
  EXPECT_EQ(route.rate_limit->fill_interval_ms, 3600000);
}

TEST(EnvoyFilter, BucketErrorsNameTheField) {
  const LoadResult r = load_filter(R"(configPatches:
- applyTo: HTTP_FILTER
  patch:
    operation: INSERT_BEFORE
    value:
      name: envoy.filters.http.local_ratelimit
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
        stat_prefix: p
        token_bucket: {max_tokens: 0, fill_interval: 10ms}
)");
  EXPECT_TRUE(testing::rejected(r));
  EXPECT_TRUE(testing::has_error(r, "spec.configPatches[0].patch.value.typed_config.token_bucket.max_tokens",
                                 "at least 1"));
  EXPECT_TRUE(testing::has_error(
      r, "spec.configPatches[0].patch.value.typed_config.token_bucket.fill_interval", "50ms"));
  EXPECT_TRUE(r.resources().envoy_filters.empty());
}

TEST(EnvoyFilter, WrongTypeAndPerConnectionAreErrors) {
  const LoadResult r = load_filter(R"(configPatches:
- applyTo: HTTP_FILTER
  patch:
    operation: INSERT_BEFORE
    value:
      name: envoy.filters.http.local_ratelimit
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit
- applyTo: HTTP_ROUTE
  patch:
    operation: MERGE
    value:
      typed_per_filter_config:
        envoy.filters.http.local_ratelimit:
          "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          stat_prefix: p
          local_rate_limit_per_downstream_connection: true
)");
  EXPECT_TRUE(testing::rejected(r));
  EXPECT_TRUE(testing::has_error(r, "spec.configPatches[0].patch.value", "RateLimit"));
  EXPECT_TRUE(testing::has_error(r, "spec.configPatches[1].patch.value.typed_per_filter_config.token_bucket",
                                 "needs a token_bucket"));
  EXPECT_TRUE(testing::has_error(
      r,
      "spec.configPatches[1].patch.value.typed_per_filter_config.local_rate_limit_per_downstream_connection",
      "not supported"));
}

TEST(EnvoyFilter, OtherPatchesGetOneNoticeAndAreAccepted) {
  const LoadResult r = load_filter(R"(configPatches:
- applyTo: NETWORK_FILTER
  patch:
    operation: MERGE
    value: {name: envoy.filters.network.tcp_proxy}
- applyTo: HTTP_FILTER
  patch:
    operation: INSERT_BEFORE
    value:
      name: envoy.filters.http.lua
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua}
)");
  EXPECT_TRUE(testing::no_errors(r));
  EXPECT_TRUE(testing::has_warning(r, "spec.configPatches", "configPatches[0] (applyTo NETWORK_FILTER)"));
  EXPECT_TRUE(testing::has_warning(r, "spec.configPatches", "configPatches[1] (applyTo HTTP_FILTER)"));
  int warnings = 0;
  for (const Diagnostic& d : r.diagnostics) warnings += d.severity == Diagnostic::Severity::Warning ? 1 : 0;
  EXPECT_EQ(warnings, 1);
  EXPECT_EQ(r.resources().envoy_filters.size(), 1u);
}

TEST(EnvoyFilter, SidecarContextHasNoEffect) {
  const LoadResult r = load_filter(R"(configPatches:
- applyTo: HTTP_FILTER
  match: {context: SIDECAR_INBOUND}
  patch:
    operation: INSERT_BEFORE
    value:
      name: envoy.filters.http.local_ratelimit
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
        stat_prefix: p
)");
  EXPECT_TRUE(testing::no_errors(r));
  EXPECT_TRUE(testing::has_warning(r, "spec.configPatches[0].match.context", "SIDECAR_INBOUND"));
}

}  // namespace
}  // namespace torii::config
