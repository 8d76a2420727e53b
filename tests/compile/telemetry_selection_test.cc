#include "compile/telemetry_selection.h"

#include <gtest/gtest.h>

namespace torii::compile {
namespace {

config::Telemetry telemetry(std::string ns, std::string name, bool disabled,
                            std::optional<config::Labels> selector = std::nullopt, std::string mode = "") {
  config::Telemetry t;
  t.meta.namespace_ = std::move(ns);
  t.meta.name = std::move(name);
  t.selector = std::move(selector);
  config::AccessLogging rule;
  rule.disabled = disabled;
  rule.providers = {"envoy"};
  rule.match_mode = std::move(mode);
  t.access_logging.push_back(rule);
  return t;
}

TEST(TelemetrySelection, NoneMeansTheFlagDecides) {
  const AccessLogPolicy p = select_access_log({}, GatewayIdentity{});
  EXPECT_FALSE(p.configured);
  EXPECT_TRUE(p.should_log(true, 200));
  EXPECT_FALSE(p.should_log(false, 200));
}

TEST(TelemetrySelection, MostSpecificWins) {
  GatewayIdentity gw;
  gw.namespace_ = "gateways";  // labels: istio=ingressgateway
  std::vector<config::Telemetry> all = {
      telemetry("istio-system", "mesh", false),
      telemetry("gateways", "ns", true),
      telemetry("gateways", "other-workload", false, config::Labels{{"app", "other"}}),
  };
  AccessLogPolicy p = select_access_log(all, gw);
  EXPECT_EQ(p.source, "Telemetry gateways/ns");
  EXPECT_FALSE(p.should_log(true, 200));
  all.push_back(telemetry("gateways", "mine", false, config::Labels{{"istio", "ingressgateway"}}));
  p = select_access_log(all, gw);
  EXPECT_EQ(p.source, "Telemetry gateways/mine");
  EXPECT_TRUE(p.should_log(false, 200));  // names the envoy provider: stdout without --access-log
  // Another namespace's resources are not for this gateway; the root namespace's are.
  gw.namespace_ = "elsewhere";
  p = select_access_log(all, gw);
  EXPECT_EQ(p.source, "Telemetry istio-system/mesh");
}

TEST(TelemetrySelection, ServerOnlyRulesDoNotApplyToAGateway) {
  const AccessLogPolicy p =
      select_access_log({telemetry("istio-system", "m", true, std::nullopt, "SERVER")}, GatewayIdentity{});
  EXPECT_FALSE(p.configured);
}

TEST(TelemetrySelection, RuleWithoutProviderNeedsTheFlag) {
  config::Telemetry t = telemetry("istio-system", "m", false);
  t.access_logging[0].providers.clear();
  const AccessLogPolicy p = select_access_log({t}, GatewayIdentity{});
  EXPECT_TRUE(p.should_log(true, 200));
  EXPECT_FALSE(p.should_log(false, 200));
}

config::Telemetry tracing(std::string ns, std::string name, std::optional<double> percent,
                          std::optional<config::Labels> selector = std::nullopt) {
  config::Telemetry t;
  t.meta.namespace_ = std::move(ns);
  t.meta.name = std::move(name);
  t.selector = std::move(selector);
  config::TracingRule rule;
  rule.random_sampling_percentage = percent;
  t.tracing.push_back(rule);
  return t;
}

TEST(TracingSelection, NoneMeansTheFlagsDecide) {
  const TracingPolicy p = select_tracing({telemetry("istio-system", "log-only", false)}, GatewayIdentity{});
  EXPECT_FALSE(p.configured);  // accessLogging says nothing about tracing
  EXPECT_EQ(p.sampling_basis_points, -1);
}

TEST(TracingSelection, MostSpecificWinsAndPercentIsInBasisPoints) {
  GatewayIdentity gw;
  gw.namespace_ = "gateways";
  std::vector<config::Telemetry> all = {tracing("istio-system", "mesh", 100),
                                        tracing("gateways", "ns", 12.345)};
  TracingPolicy p = select_tracing(all, gw);
  EXPECT_EQ(p.source, "Telemetry gateways/ns");
  EXPECT_EQ(p.sampling_basis_points, 1235);  // 0.01 % precision
  all.push_back(tracing("gateways", "mine", std::nullopt, config::Labels{{"istio", "ingressgateway"}}));
  p = select_tracing(all, gw);
  EXPECT_EQ(p.source, "Telemetry gateways/mine");
  EXPECT_TRUE(p.configured);
  EXPECT_EQ(p.sampling_basis_points, -1);  // not set: --trace-sampling
}

TEST(TracingSelection, ServerOnlyRulesAreSkippedAndReportingCanBeOff) {
  config::Telemetry t = tracing("istio-system", "m", 0);
  t.tracing[0].match_mode = "SERVER";
  config::TracingRule client;
  client.disable_span_reporting = true;
  t.tracing.push_back(client);
  const TracingPolicy p = select_tracing({t}, GatewayIdentity{});
  EXPECT_TRUE(p.configured);
  EXPECT_TRUE(p.disable_span_reporting);
  EXPECT_EQ(p.sampling_basis_points, -1);
}

}  // namespace
}  // namespace torii::compile
