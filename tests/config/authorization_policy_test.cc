// AuthorizationPolicy parsing and validation (config/parse_authorization_policy.cc,
// validate_authorization_policy.cc; ISTIO_SECURITY.md §11): both API versions,
// errors naming the field, and the warnings for what a gateway cannot match.
#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

TEST(AuthorizationPolicy, ParsedFromBothApiVersions) {
  for (const char* version : {"security.istio.io/v1", "security.istio.io/v1beta1"}) {
    const LoadResult r = testing::load(testing::object(version, "AuthorizationPolicy", R"(selector:
  matchLabels: {istio: ingressgateway}
action: DENY
rules:
- from:
  - source: {requestPrincipals: ["iss/sub"], notIpBlocks: [10.0.0.0/8]}
  to:
  - operation: {hosts: [a.example], notPaths: ["/api/{*}/admin"], ports: ["8080"]}
  when:
  - {key: "request.auth.claims[org][team]", values: [blue]}
)"));
    ASSERT_TRUE(testing::no_errors(r)) << version << testing::dump(r.diagnostics);
    const ResourceSet resources = r.resources();
    ASSERT_EQ(resources.authorization_policies.size(), 1u) << version;
    const AuthorizationPolicy& p = resources.authorization_policies[0];
    EXPECT_EQ(p.action, "DENY");
    ASSERT_EQ(p.rules.size(), 1u);
    ASSERT_EQ(p.rules[0].from.size(), 1u);
    EXPECT_EQ(p.rules[0].from[0].request_principals, std::vector<std::string>{"iss/sub"});
    EXPECT_EQ(p.rules[0].to[0].not_paths, std::vector<std::string>{"/api/{*}/admin"});
    EXPECT_EQ(p.rules[0].when[0].key, "request.auth.claims[org][team]");
  }
}

TEST(AuthorizationPolicy, ErrorsNameTheField) {
  const LoadResult r =
      testing::load(testing::object("security.istio.io/v1", "AuthorizationPolicy", R"(action: DENY
rules:
- from: []
- to:
  - operation: {ports: ["70000"], paths: [""]}
  when:
  - {key: destination.name, values: [x]}
  - {key: source.ip, values: [not-an-ip]}
  - {key: "request.headers[x-a]"}
)"));
  EXPECT_TRUE(testing::has_error(r, "spec.rules[0].from", "must not be empty"));
  EXPECT_TRUE(testing::has_error(r, "spec.rules[1].to[0].operation.ports[0]", "70000"));
  EXPECT_TRUE(testing::has_error(r, "spec.rules[1].to[0].operation.paths[0]", "empty value"));
  EXPECT_TRUE(testing::has_error(r, "spec.rules[1].when[0].key", "destination.name"));
  EXPECT_TRUE(testing::has_error(r, "spec.rules[1].when[1].values[0]", "not-an-ip"));
  EXPECT_TRUE(testing::has_error(r, "spec.rules[1].when[2]", "values or notValues"));
  EXPECT_TRUE(r.resources().authorization_policies.empty());
}

// Istio's CheckValidPathTemplate: {*} and {**} only as whole segments, {**}
// the last operator, plain literals around them; a '{' anywhere else is an
// error even without a template.
TEST(AuthorizationPolicy, PathTemplatesAreCheckedAsIstioDoes) {
  const LoadResult ok = testing::load(testing::object("security.istio.io/v1", "AuthorizationPolicy", R"(rules:
- to:
  - operation:
      paths: ["/api/{*}/info", "/files/{**}", "/{*}/{**}/raw", "/a/{*}/", "/plain*", "*.css"]
)"));
  EXPECT_TRUE(testing::no_errors(ok)) << testing::dump(ok.diagnostics);
  EXPECT_TRUE(ok.diagnostics.empty()) << testing::dump(ok.diagnostics);

  const LoadResult bad =
      testing::load(testing::object("security.istio.io/v1", "AuthorizationPolicy", R"(rules:
- to:
  - operation:
      paths: ["/{**}/{*}", "/a/{*}.txt", "/a/{name}", "/a/*/{*}", "api/{*}"]
      notPaths: ["/{**}/x/{**}"]
)"));
  const std::string field = "spec.rules[0].to[0].operation.";
  EXPECT_TRUE(testing::has_error(bad, field + "paths[0]", "{**} is not the last operator"));
  EXPECT_TRUE(testing::has_error(bad, field + "paths[1]", "beyond a supported path template"));
  EXPECT_TRUE(testing::has_error(bad, field + "paths[2]", "beyond a supported path template"));
  EXPECT_TRUE(testing::has_error(bad, field + "paths[3]", "segment '*'"));
  EXPECT_TRUE(testing::has_error(bad, field + "paths[4]", "must start with '/'"));
  EXPECT_TRUE(testing::has_error(bad, field + "notPaths[0]", "{**} is not the last operator"));
}

TEST(AuthorizationPolicy, WarnsAboutWhatAGatewayCannotMatch) {
  const LoadResult r = testing::load(testing::object("security.istio.io/v1", "AuthorizationPolicy", R"(rules:
- from:
  - source: {principals: [cluster.local/ns/a/sa/b]}
  when:
  - {key: source.namespace, values: [prod]}
  - {key: "experimental.envoy.filters.a.b[c]", values: [x]}
)"));
  EXPECT_TRUE(testing::no_errors(r));
  EXPECT_TRUE(testing::has_warning(r, "spec.rules[0].from[0].source", "mTLS peer identity"));
  EXPECT_TRUE(testing::has_warning(r, "spec.rules[0].when[0].key", "mTLS peer identity"));
  EXPECT_TRUE(testing::has_warning(r, "spec.rules[0].when[1].key", "never matches"));
}

}  // namespace
}  // namespace torii::config
