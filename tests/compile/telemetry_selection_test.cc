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

}  // namespace
}  // namespace torii::compile
