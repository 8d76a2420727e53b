#include "compile/jwt_selection.h"

#include <gtest/gtest.h>

#include <fstream>

namespace torii::compile {
namespace {

constexpr const char* kJwks =
    R"({"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";

config::RequestAuthentication policy(std::string ns, std::string name, std::string issuer,
                                     std::optional<config::Labels> selector = std::nullopt) {
  config::RequestAuthentication p;
  p.meta.namespace_ = std::move(ns);
  p.meta.name = std::move(name);
  p.selector = std::move(selector);
  config::JwtRule rule;
  rule.issuer = std::move(issuer);
  rule.jwks = kJwks;
  p.jwt_rules.push_back(rule);
  return p;
}

std::vector<std::string> issuers(const std::vector<config::RequestAuthentication>& all,
                                 const GatewayIdentity& gw) {
  DiagnosticSink sink;
  std::set<std::string> files;
  std::shared_ptr<const security::JwtAuthn> authn = build_jwt_authn(all, gw, sink, files);
  std::vector<std::string> out;
  if (authn) {
    for (const security::JwtProvider& p : authn->providers()) out.push_back(p.issuer);
  }
  return out;
}

TEST(JwtSelection, NamespacesSelectorsAndTargetRefs) {
  GatewayIdentity gw;
  gw.namespace_ = "gateways";  // labels: istio=ingressgateway
  std::vector<config::RequestAuthentication> all = {
      policy("istio-system", "mesh", "z-mesh"),
      policy("gateways", "own", "b-own"),
      policy("default", "elsewhere", "x-elsewhere"),  // neither own nor root namespace
      policy("gateways", "other", "y-other", config::Labels{{"app", "other"}}),
      policy("gateways", "mine", "a-mine", config::Labels{{"istio", "ingressgateway"}}),
  };
  config::RequestAuthentication ref = policy("gateways", "ref", "c-ref");
  ref.target_refs.push_back({"gateway.networking.k8s.io", "Gateway", "gw"});
  all.push_back(ref);
  // Merged and sorted by issuer; targetRefs ignored on a classic gateway.
  EXPECT_EQ(issuers(all, gw), (std::vector<std::string>{"a-mine", "b-own", "z-mesh"}));
  gw.labels["gateway.networking.k8s.io/gateway-name"] = "gw";
  EXPECT_EQ(issuers(all, gw), (std::vector<std::string>{"a-mine", "b-own", "c-ref", "z-mesh"}));
  EXPECT_TRUE(issuers({}, gw).empty());
}

TEST(JwtSelection, DefaultLocationsAndUnreadableJwksFailsClosed) {
  GatewayIdentity gw;
  config::RequestAuthentication p = policy("istio-system", "p", "iss");
  p.jwt_rules[0].jwks.clear();
  p.jwt_rules[0].jwks_uri = "file:///nonexistent/jwks.json";
  DiagnosticSink sink;
  std::set<std::string> files;
  std::shared_ptr<const security::JwtAuthn> authn = build_jwt_authn({p}, gw, sink, files);
  ASSERT_TRUE(authn);
  const security::JwtProvider& provider = authn->providers()[0];
  EXPECT_FALSE(provider.jwks);  // every token of this issuer is rejected
  ASSERT_EQ(provider.locations.size(), 2u);
  EXPECT_EQ(provider.locations[0].name, "authorization");
  EXPECT_EQ(provider.locations[0].prefix, "Bearer ");
  EXPECT_EQ(provider.locations[1].name, "access_token");
  EXPECT_EQ(files, std::set<std::string>{"/nonexistent/jwks.json"});
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_NE(sink.diagnostics()[0].format().find("spec.jwtRules[0].jwksUri"), std::string::npos);
}

}  // namespace
}  // namespace torii::compile
