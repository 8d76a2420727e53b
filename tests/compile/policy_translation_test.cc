// Golden tests for route policies: VirtualService rule in, compiled
// RoutePolicies out (istiod setTimeout, retry.ConvertPolicy, TranslateFault,
// MirrorPercent, TranslateCORSPolicy; ISTIO_SEMANTICS §3.2, §3.7-§3.10).
#include "compile/policy_translation.h"

#include <gtest/gtest.h>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

class PolicyTranslation : public ::testing::Test {
 protected:
  PolicyTranslation() {
    r.gateway("istio-system", "gw", {server(80, {"*"})});
    r.service("default", "httpbin", {service_port("http", 8000, 80)}, Labels{{"app", "httpbin"}});
    r.pod("default", "httpbin-1", "10.0.0.1", {{"app", "httpbin"}});
    r.service("default", "other", {service_port("http", 8000, 80)}, Labels{{"app", "other"}});
    r.pod("default", "other-1", "10.0.0.2", {{"app", "other"}});
  }

  // Compiles one VS with `rule` and returns the policies of its route.
  const router::RoutePolicies& compile_rule(const config::HTTPRoute& rule) {
    r.virtual_service("default", "vs", {"a.com"}, {"istio-system/gw"}, {rule});
    compiled_ = std::make_unique<Compiled>(r.set);
    const router::Route* route = compiled_->route(Request("a.com", "/"));
    EXPECT_NE(route, nullptr) << compiled_->all_diagnostics();
    static const router::RoutePolicies kNone;
    return route == nullptr ? kNone : route->action.policies;
  }

  Resources r;
  std::unique_ptr<Compiled> compiled_;
};

TEST_F(PolicyTranslation, TimeoutNoneByDefault) {
  EXPECT_EQ(compile_rule(rule({}, {dest("httpbin")})).timeout_ms, 0u);
}

TEST_F(PolicyTranslation, Timeout) {
  config::HTTPRoute h = rule({}, {dest("httpbin")});
  h.timeout_ms = 2500;
  EXPECT_EQ(compile_rule(h).timeout_ms, 2500u);
}

TEST_F(PolicyTranslation, NoRetriesFieldGivesIstiosDefault) {
  const router::RetryPolicy& p = compile_rule(rule({}, {dest("httpbin")})).retry;
  EXPECT_EQ(p.num_retries, 2u);
  EXPECT_EQ(router::retry_on_string(p),
            "connect-failure,refused-stream,retriable-status-codes,cancelled,unavailable");
  EXPECT_TRUE(p.retriable_status_codes.empty());
}

TEST_F(PolicyTranslation, RetryConversion) {
  config::HTTPRetry off;
  EXPECT_FALSE(translate_retry_policy(off).enabled());  // a block without attempts disables
  off.attempts = 0;
  EXPECT_FALSE(translate_retry_policy(off).enabled());

  config::HTTPRetry only_attempts;
  only_attempts.attempts = 5;
  router::RetryPolicy p = translate_retry_policy(only_attempts);
  EXPECT_EQ(p.num_retries, 5u);  // the default retryOn is kept
  EXPECT_EQ(p.retry_on, router::istio_default_retry_policy().retry_on);

  config::HTTPRetry full;
  full.attempts = 3;
  full.retry_on = "gateway-error,409";
  full.per_try_timeout_ms = 700;
  full.backoff_ms = 100;
  full.retry_ignore_previous_hosts = false;
  full.retry_remote_localities = true;
  p = translate_retry_policy(full);
  EXPECT_EQ(p.num_retries, 3u);
  EXPECT_EQ(router::retry_on_string(p), "gateway-error,retriable-status-codes");
  EXPECT_EQ(p.retriable_status_codes, (std::vector<uint32_t>{409}));
  EXPECT_EQ(p.per_try_timeout_ms, 700u);
  EXPECT_EQ(p.base_interval_ms, 100u);
  EXPECT_EQ(p.max_interval_ms, 1000u);
  EXPECT_FALSE(p.avoid_previous_hosts);
  EXPECT_TRUE(p.retry_remote_localities);
}

TEST_F(PolicyTranslation, Fault) {
  config::HTTPRoute h = rule({}, {dest("httpbin")});
  config::HTTPFaultInjection f;
  f.delay = config::HTTPFaultInjection::Delay{};
  f.delay->fixed_delay_ms = 300;
  f.delay->percentage = config::Percent{12.5};
  f.abort = config::HTTPFaultInjection::Abort{};
  f.abort->grpc_status = "UNAVAILABLE";  // no percentage => 0%
  h.policies.fault = f;
  h.has_fault = true;
  const router::RoutePolicies& p = compile_rule(h);
  ASSERT_TRUE(p.fault);
  EXPECT_TRUE(p.fault->has_delay);
  EXPECT_EQ(p.fault->delay_ms, 300u);
  EXPECT_EQ(p.fault->delay_per_million, 125000u);
  EXPECT_TRUE(p.fault->has_abort);
  EXPECT_EQ(p.fault->http_status, 200);
  EXPECT_EQ(p.fault->grpc_status, 14);
  EXPECT_EQ(p.fault->abort_per_million, 0u);
}

TEST_F(PolicyTranslation, FaultDelayWithoutPercentageUsesDeprecatedPercent) {
  config::HTTPRoute h = rule({}, {dest("httpbin")});
  config::HTTPFaultInjection f;
  f.delay = config::HTTPFaultInjection::Delay{};
  f.delay->fixed_delay_ms = 10;
  f.delay->percent = 20;
  h.policies.fault = f;
  EXPECT_EQ(compile_rule(h).fault->delay_per_million, 200000u);
}

TEST_F(PolicyTranslation, MirrorResolvedLikeADestination) {
  config::HTTPRoute h = rule({}, {dest("httpbin")});
  h.policies.mirror = config::Destination{"other", "", {}};
  const router::RoutePolicies& p = compile_rule(h);
  ASSERT_EQ(p.mirrors.size(), 1u);
  EXPECT_EQ(p.mirrors[0].cluster_name, kOther);
  ASSERT_NE(p.mirrors[0].cluster, nullptr);
  EXPECT_EQ(p.mirrors[0].per_million, 1000000u);  // absent => 100%
}

TEST_F(PolicyTranslation, MirrorPercentagesAndMissingClusters) {
  config::HTTPRoute h = rule({}, {dest("httpbin")});
  h.policies.mirrors.push_back({config::Destination{"other", "", {}}, config::Percent{0}});     // none
  h.policies.mirrors.push_back({config::Destination{"other", "", {}}, config::Percent{25.5}});  // 25.5%
  h.policies.mirrors.push_back({config::Destination{"missing", "", {}}, std::nullopt});         // no cluster
  const router::RoutePolicies& p = compile_rule(h);
  ASSERT_EQ(p.mirrors.size(), 2u);
  EXPECT_EQ(p.mirrors[0].per_million, 255000u);
  EXPECT_EQ(p.mirrors[1].cluster, nullptr);
  EXPECT_TRUE(compiled_->has_diagnostic(
      "mirror cluster outbound|80||missing.default.svc.cluster.local does not exist"))
      << compiled_->all_diagnostics();
}

TEST_F(PolicyTranslation, Cors) {
  config::HTTPRoute h = rule({}, {dest("httpbin")});
  config::CorsPolicy c;
  c.allow_origins = {exact("https://a.com"), regex("https://.*\\.b\\.com")};
  c.allow_methods = {"GET", "POST"};
  c.allow_headers = {"x-a", "x-b"};
  c.expose_headers = {"x-c"};
  c.max_age_ms = 86400000;
  c.allow_credentials = true;
  c.unmatched_preflights = "IGNORE";
  h.policies.cors_policy = c;
  const router::RoutePolicies& p = compile_rule(h);
  ASSERT_TRUE(p.cors);
  EXPECT_TRUE(p.cors->origin_allowed("https://a.com"));
  EXPECT_TRUE(p.cors->origin_allowed("https://x.b.com"));
  EXPECT_FALSE(p.cors->origin_allowed("https://x.b.com.evil"));
  EXPECT_EQ(p.cors->allow_methods, "GET,POST");
  EXPECT_EQ(p.cors->allow_headers, "x-a,x-b");
  EXPECT_EQ(p.cors->expose_headers, "x-c");
  EXPECT_EQ(p.cors->max_age, "86400");
  EXPECT_TRUE(p.cors->allow_credentials);
  EXPECT_FALSE(p.cors->forward_not_matching_preflights);
}

TEST_F(PolicyTranslation, CorsDeprecatedAllowOriginIsExact) {
  config::HTTPRoute h = rule({}, {dest("httpbin")});
  config::CorsPolicy c;
  c.allow_origin = {"https://old.com"};
  h.policies.cors_policy = c;
  const router::RoutePolicies& p = compile_rule(h);
  ASSERT_TRUE(p.cors);
  EXPECT_TRUE(p.cors->origin_allowed("https://old.com"));
  EXPECT_FALSE(p.cors->origin_allowed("https://old.com.x"));
  EXPECT_TRUE(p.cors->forward_not_matching_preflights);  // FORWARD by default
  EXPECT_EQ(p.cors->max_age, "");
}

}  // namespace
}  // namespace torii::compile
