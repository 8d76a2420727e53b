// DestinationRule lookup and merge (§5.1, Appendix B.26).
#include "compile/destination_rule_lookup.h"

#include <gtest/gtest.h>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using testing::Resources;

const std::string kReviews = "reviews.app.svc.cluster.local";

std::string found(const DestinationRuleIndex& index, const std::string& host = kReviews,
                  const std::string& ns = "app") {
  const AppliedDestinationRule* rule = index.lookup(host, ns);
  if (rule == nullptr) return "none";
  return rule->rules.front()->meta.namespace_ + "/" + rule->rules.front()->meta.name;
}

GatewayIdentity in_namespace(const std::string& ns) {
  GatewayIdentity identity;
  identity.namespace_ = ns;
  return identity;
}

TEST(DestinationRuleLookup, ShortHostExpandsWithTheRuleNamespace) {
  Resources r;
  r.destination_rule("app", "dr", "reviews", {{"v1", {{"version", "v1"}}}});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index), "app/dr");
  EXPECT_EQ(found(index, "reviews.other.svc.cluster.local", "other"), "none");
}

TEST(DestinationRuleLookup, GatewayNamespaceBeatsSpecificity) {
  // B.26: a wildcard DR in the gateway's namespace wins over an exact-host DR
  // in the service's namespace (namespace order first, specificity second).
  Resources r;
  r.destination_rule("app", "exact", kReviews, {});
  r.destination_rule("gateways", "wild", "*.svc.cluster.local", {});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index), "gateways/wild");
}

TEST(DestinationRuleLookup, MostSpecificHostInsideANamespace) {
  Resources r;
  r.destination_rule("app", "wild", "*.app.svc.cluster.local", {});
  r.destination_rule("app", "exact", kReviews, {});
  r.destination_rule("app", "wider", "*.svc.cluster.local", {});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index), "app/exact");
  EXPECT_EQ(found(index, "ratings.app.svc.cluster.local"), "app/wild");
}

TEST(DestinationRuleLookup, ServiceNamespaceRulesMustBeExportedToTheGateway) {
  Resources r;
  auto& priv = r.destination_rule("app", "private", kReviews, {});
  priv.export_to = {"."};
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index), "none");

  Resources r2;
  auto& named = r2.destination_rule("app", "named", kReviews, {});
  named.export_to = {"gateways"};
  DestinationRuleIndex index2(r2.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index2), "app/named");
}

TEST(DestinationRuleLookup, MostSpecificExportedRuleThatIsHiddenDoesNotFallBack) {
  Resources r;
  auto& exact = r.destination_rule("app", "exact", kReviews, {});
  exact.export_to = {"somewhere-else"};
  r.destination_rule("app", "wild", "*.app.svc.cluster.local", {});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index), "none");
}

TEST(DestinationRuleLookup, RootNamespaceIsTheLastResort) {
  Resources r;
  r.destination_rule("istio-system", "mesh-wide", "*.svc.cluster.local", {});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index), "istio-system/mesh-wide");

  r.destination_rule("app", "svc-ns", kReviews, {});
  DestinationRuleIndex index2(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  EXPECT_EQ(found(index2), "app/svc-ns");
}

TEST(DestinationRuleLookup, GatewayInRootNamespaceOnlyTakesPrivateRootRulesFirst) {
  // A public DR in istio-system is the mesh-wide fallback; with the gateway
  // itself in istio-system, the service namespace's DR still wins over it.
  Resources r;
  r.destination_rule("istio-system", "public-root", kReviews, {});
  r.destination_rule("app", "svc-ns", kReviews, {});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("istio-system"), diagnostics);
  EXPECT_EQ(found(index), "app/svc-ns");

  auto& priv = r.destination_rule("istio-system", "private-root", kReviews, {});
  priv.export_to = {"."};
  DestinationRuleIndex index2(r.set.destination_rules, in_namespace("istio-system"), diagnostics);
  EXPECT_EQ(found(index2), "istio-system/private-root");
}

TEST(DestinationRuleLookup, SameHostRulesMergeSubsetsFirstDefinitionWins) {
  Resources r;
  r.destination_rule("app", "first", "reviews", {{"v1", {{"version", "v1"}}}});
  r.destination_rule("app", "second", kReviews,
                     {{"v1", {{"version", "other"}}}, {"v2", {{"version", "v2"}}}});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  const AppliedDestinationRule* rule = index.lookup(kReviews, "app");
  ASSERT_NE(rule, nullptr);
  ASSERT_EQ(rule->subsets.size(), 2u);
  EXPECT_EQ(rule->find_subset("v1")->labels.at("version"), "v1");
  EXPECT_EQ(rule->find_subset("v2")->labels.at("version"), "v2");
  EXPECT_EQ(rule->find_subset("v3"), nullptr);
  ASSERT_EQ(diagnostics.diagnostics().size(), 1u);
  EXPECT_EQ(diagnostics.diagnostics()[0].name, "second");
  EXPECT_EQ(diagnostics.diagnostics()[0].field, "spec.subsets[0]");
}

TEST(DestinationRuleLookup, WildcardAndExactRulesAreNotMerged) {
  Resources r;
  r.destination_rule("app", "wild", "*.app.svc.cluster.local", {{"v1", {}}});
  r.destination_rule("app", "exact", kReviews, {{"v2", {}}});
  DiagnosticSink diagnostics;
  DestinationRuleIndex index(r.set.destination_rules, in_namespace("gateways"), diagnostics);
  const AppliedDestinationRule* rule = index.lookup(kReviews, "app");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->find_subset("v1"), nullptr);
  EXPECT_NE(rule->find_subset("v2"), nullptr);
}

}  // namespace
}  // namespace torii::compile
