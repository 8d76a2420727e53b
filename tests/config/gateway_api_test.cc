// Gateway API kinds: reading with the CRD defaults applied, and the CRD/CEL
// validation the API server would do (config/parse_gateway_api.cc,
// config/validate_gateway_api.cc; docs/gateway-api.md).
#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::load;
using testing::no_errors;

LoadResult load_route(std::string_view spec) {
  return load(testing::object("gateway.networking.k8s.io/v1", "HTTPRoute", spec, "r", "ns"));
}

LoadResult load_gateway(std::string_view spec) {
  return load(testing::object("gateway.networking.k8s.io/v1", "Gateway", spec, "gw", "ns"));
}

TEST(GatewayApiTest, RouteDefaults) {
  const LoadResult r = load_route(R"(parentRefs: [{name: gw}]
rules:
- backendRefs: [{name: svc, port: 8080}]
- matches: [{headers: [{name: a, value: b}]}]
)");
  ASSERT_TRUE(no_errors(r)) << testing::dump(r.diagnostics);
  const ResourceSet set = r.resources();  // built on each call
  ASSERT_EQ(set.http_routes.size(), 1u);
  const gwapi::HTTPRoute& route = set.http_routes[0];
  EXPECT_EQ(route.parent_refs[0].group, "gateway.networking.k8s.io");
  EXPECT_EQ(route.parent_refs[0].kind, "Gateway");
  ASSERT_EQ(route.rules.size(), 2u);
  ASSERT_EQ(route.rules[0].matches.size(), 1u);
  EXPECT_EQ(route.rules[0].matches[0].path.type, "PathPrefix");
  EXPECT_EQ(route.rules[0].matches[0].path.value, "/");
  EXPECT_EQ(route.rules[0].backend_refs[0].weight, 1);
  EXPECT_EQ(route.rules[0].backend_refs[0].ref.kind, "Service");
  EXPECT_EQ(route.rules[0].backend_refs[0].ref.group, "");
  // A match without a path gets PathPrefix "/", a header match type Exact.
  EXPECT_EQ(route.rules[1].matches[0].path.type, "PathPrefix");
  EXPECT_EQ(route.rules[1].matches[0].headers[0].type, "Exact");
}

TEST(GatewayApiTest, RouteWithoutRulesGetsOneCatchAllRule) {
  const LoadResult r = load_route("parentRefs: [{name: gw}]\n");
  ASSERT_TRUE(no_errors(r)) << testing::dump(r.diagnostics);
  ASSERT_EQ(r.resources().http_routes[0].rules.size(), 1u);
  EXPECT_TRUE(r.resources().http_routes[0].rules[0].backend_refs.empty());
}

TEST(GatewayApiTest, RedirectWithBackendsIsRejected) {
  const LoadResult r = load_route(R"(rules:
- filters:
  - type: RequestRedirect
    requestRedirect: {statusCode: 305}
  backendRefs: [{name: svc, port: 8080}]
)");
  EXPECT_TRUE(has_error(r, "spec.rules[0]", "RequestRedirect filter must not be used together"));
  EXPECT_TRUE(has_error(r, "spec.rules[0].filters[0].requestRedirect.statusCode", "301, 302"));
  EXPECT_TRUE(r.resources().http_routes.empty());
}

TEST(GatewayApiTest, ReplacePrefixMatchNeedsOnePathPrefix) {
  const LoadResult r = load_route(R"(rules:
- matches: [{path: {type: Exact, value: /a}}]
  filters:
  - type: URLRewrite
    urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}
)");
  EXPECT_TRUE(has_error(r, "spec.rules[0].filters[0]", "exactly one match with a PathPrefix"));
}

TEST(GatewayApiTest, BadPathsAndRegexes) {
  const LoadResult r = load_route(R"(rules:
- matches:
  - path: {type: PathPrefix, value: relative}
  - path: {type: RegularExpression, value: "(["}
  - headers: [{name: x, type: Prefix, value: y}]
    method: FETCH
)");
  EXPECT_TRUE(has_error(r, "spec.rules[0].matches[0].path.value", "absolute path"));
  EXPECT_TRUE(has_error(r, "spec.rules[0].matches[1].path.value", "invalid regular expression"));
  EXPECT_TRUE(has_error(r, "spec.rules[0].matches[2].headers[0].type", "Exact or RegularExpression"));
  EXPECT_TRUE(has_error(r, "spec.rules[0].matches[2].method", "unsupported method"));
}

TEST(GatewayApiTest, GatewayListenerRules) {
  const LoadResult r = load_gateway(R"(gatewayClassName: istio
listeners:
- {name: a, port: 80, protocol: HTTP}
- {name: a, port: 81, protocol: HTTP, hostname: 10.0.0.1}
- {name: b, port: 82, protocol: HTTP, tls: {certificateRefs: [{name: c}]}}
- {name: c, port: 443, protocol: HTTPS}
)");
  EXPECT_TRUE(has_error(r, "spec.listeners[1].name", "must be unique"));
  EXPECT_TRUE(has_error(r, "spec.listeners[1].hostname", "not an IP address"));
  EXPECT_TRUE(has_error(r, "spec.listeners[2].tls", "must not be specified"));
  EXPECT_TRUE(has_error(r, "spec.listeners[3].tls", "tls mode must be set"));
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_EQ(r.diagnostics[0].kind, "Gateway.gateway.networking.k8s.io");
}

TEST(GatewayApiTest, GatewayDefaults) {
  const LoadResult r = load_gateway(R"(gatewayClassName: istio
listeners:
- name: https
  port: 443
  protocol: HTTPS
  tls: {certificateRefs: [{name: cert}]}
)");
  ASSERT_TRUE(no_errors(r)) << testing::dump(r.diagnostics);
  const ResourceSet set = r.resources();
  const gwapi::Listener& l = set.k8s_gateways[0].listeners[0];
  EXPECT_EQ(l.from, "Same");
  EXPECT_EQ(l.tls->mode, "Terminate");
  EXPECT_EQ(l.tls->certificate_refs[0].kind, "Secret");
}

TEST(GatewayApiTest, ReferenceGrantAndClass) {
  const LoadResult r = load(R"(
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: backends}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: "", kind: Service}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio, namespace: ignored}
spec: {controllerName: istio.io/gateway-controller}
)");
  ASSERT_TRUE(no_errors(r)) << testing::dump(r.diagnostics);
  ASSERT_EQ(r.resources().reference_grants.size(), 1u);
  EXPECT_EQ(r.resources().reference_grants[0].from[0].namespace_, "apps");
  ASSERT_EQ(r.resources().gateway_classes.size(), 1u);
  EXPECT_EQ(r.resources().gateway_classes[0].meta.namespace_, "");  // cluster-scoped
}

}  // namespace
}  // namespace torii::config
