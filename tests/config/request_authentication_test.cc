#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

// RFC 7515 A.3's P-256 public key.
constexpr const char* kJwks =
    R"({"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";

TEST(RequestAuthentication, ParsedFromBothApiVersions) {
  for (const char* version : {"security.istio.io/v1", "security.istio.io/v1beta1"}) {
    const LoadResult r =
        testing::load(testing::object(version, "RequestAuthentication", std::string(R"(selector:
  matchLabels: {istio: ingressgateway}
jwtRules:
- issuer: iss
  audiences: [a, b]
  jwks: ')") + kJwks + R"('
  fromHeaders: [{name: x-token, prefix: "Token "}]
  fromParams: [jwt]
  fromCookies: [session]
  outputPayloadToHeader: x-payload
  outputClaimToHeaders: [{header: x-sub, claim: sub}]
  forwardOriginalToken: true
)"));
    ASSERT_TRUE(testing::no_errors(r)) << version;
    const ResourceSet resources = r.resources();
    ASSERT_EQ(resources.request_authentications.size(), 1u) << version;
    const RequestAuthentication& p = resources.request_authentications[0];
    ASSERT_TRUE(p.selector.has_value());
    ASSERT_EQ(p.jwt_rules.size(), 1u);
    const JwtRule& rule = p.jwt_rules[0];
    EXPECT_EQ(rule.issuer, "iss");
    EXPECT_EQ(rule.audiences, (std::vector<std::string>{"a", "b"}));
    ASSERT_EQ(rule.from_headers.size(), 1u);
    EXPECT_EQ(rule.from_headers[0].prefix, "Token ");
    EXPECT_EQ(rule.from_params, std::vector<std::string>{"jwt"});
    EXPECT_EQ(rule.from_cookies, std::vector<std::string>{"session"});
    EXPECT_EQ(rule.output_payload_to_header, "x-payload");
    ASSERT_EQ(rule.output_claim_to_headers.size(), 1u);
    EXPECT_EQ(rule.output_claim_to_headers[0].claim, "sub");
    EXPECT_TRUE(rule.forward_original_token);
  }
}

TEST(RequestAuthentication, ErrorsNameTheField) {
  const LoadResult r =
      testing::load(testing::object("security.istio.io/v1", "RequestAuthentication", R"(selector:
  matchLabels: {app: "*"}
targetRef: {kind: Gateway, name: gw}
jwtRules:
- jwks: 'not json'
- issuer: i
  jwksUri: ftp://keys
  fromHeaders: [{prefix: x}]
  outputClaimToHeaders: [{header: "bad header", claim: ""}]
)"));
  EXPECT_TRUE(testing::has_error(r, "spec.targetRefs", "only one of selector"));
  EXPECT_TRUE(testing::has_error(r, "spec.selector.matchLabels[app]", "wildcard"));
  EXPECT_TRUE(testing::has_error(r, "spec.jwtRules[0].issuer", "non-empty"));
  EXPECT_TRUE(testing::has_error(r, "spec.jwtRules[0].jwks", "does not parse"));
  EXPECT_TRUE(testing::has_error(r, "spec.jwtRules[1].jwksUri", "ftp://keys"));
  EXPECT_TRUE(testing::has_error(r, "spec.jwtRules[1].fromHeaders[0].name", "non-empty"));
  EXPECT_TRUE(testing::has_error(r, "spec.jwtRules[1].outputClaimToHeaders[0].header", "bad header"));
  EXPECT_TRUE(testing::has_error(r, "spec.jwtRules[1].outputClaimToHeaders[0].claim", "non-empty"));
  EXPECT_TRUE(r.resources().request_authentications.empty());
}

TEST(RequestAuthentication, RemoteJwksIsAccepted) {
  const LoadResult r =
      testing::load(testing::object("security.istio.io/v1", "RequestAuthentication", R"(jwtRules:
- issuer: i
  jwksUri: https://example.com/jwks.json
)"));
  EXPECT_TRUE(testing::no_errors(r));
  EXPECT_TRUE(r.diagnostics.empty()) << testing::dump(r.diagnostics);  // fetched by `torii run` (docs/jwt.md)
}

}  // namespace
}  // namespace torii::config
