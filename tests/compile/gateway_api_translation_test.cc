// Gateway API -> Istio Gateway + VirtualService (compile/gateway_api_translation.h):
// the precedence order across routes, segment prefixes, attachment and status.
#include "compile/gateway_api_translation.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace torii::compile {
namespace {

const char* kBase = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: infra}
spec: {ports: [{name: http, port: 8080}]}
)";

GatewayApiTranslation translate(const std::string& yaml, GatewayIdentity identity = {}) {
  const config::LoadResult loaded = config::load_string(std::string(kBase) + "---\n" + yaml, "t.yaml", {});
  DiagnosticSink sink;
  return translate_gateway_api(loaded.resources(), identity, sink);
}

// "<route name>.<rule>:<match kind><path>" of each VirtualService route, in order.
std::vector<std::string> order(const config::VirtualService& vs) {
  std::vector<std::string> out;
  for (const config::HTTPRoute& r : vs.http) {
    const config::StringMatch& uri = *r.match[0].uri;
    const char* kind = uri.kind == config::StringMatch::Kind::Exact    ? "="
                       : uri.kind == config::StringMatch::Kind::Prefix ? "^"
                                                                       : "~";
    out.push_back(r.name + ":" + kind + uri.value);
  }
  return out;
}

TEST(GatewayApiTranslation, PrecedenceAcrossRoutesNotWrittenOrder) {
  // Written catch-all first, by the older route: still last. Between equal
  // paths, method beats headers, more headers beat fewer, then queries.
  const GatewayApiTranslation t = translate(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a, namespace: infra, creationTimestamp: "2020-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - {name: catchall, backendRefs: [{name: svc, port: 8080}]}
  - name: regex
    matches: [{path: {type: RegularExpression, value: "/.*/long/regex"}}]
    backendRefs: [{name: svc, port: 8080}]
  - name: headers2
    matches: [{path: {value: /v2}, headers: [{name: a, value: b}, {name: c, value: d}]}]
    backendRefs: [{name: svc, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: b, namespace: infra, creationTimestamp: "2021-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: method
    matches: [{path: {value: /v2/}, method: GET}]
    backendRefs: [{name: svc, port: 8080}]
  - name: exact
    matches: [{path: {type: Exact, value: /}}]
    backendRefs: [{name: svc, port: 8080}]
  - name: query
    matches: [{path: {value: /v2}, headers: [{name: a, value: b}, {name: c, value: d}], queryParams: [{name: q, value: v}]}]
    backendRefs: [{name: svc, port: 8080}]
)");
  ASSERT_EQ(t.virtual_services.size(), 1u);
  EXPECT_EQ(t.virtual_services[0].hosts, std::vector<std::string>{"*"});
  EXPECT_EQ(order(t.virtual_services[0]), (std::vector<std::string>{
                                              "exact:=/",
                                              "method:=/v2",
                                              "method:^/v2/",
                                              "query:=/v2",
                                              "query:^/v2/",
                                              "headers2:=/v2",
                                              "headers2:^/v2/",
                                              "catchall:^/",
                                              "regex:~/.*/long/regex",
                                          }));
}

TEST(GatewayApiTranslation, TiesByTimestampThenNamespaceAndName) {
  const char* route = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: NAME, namespace: infra, creationTimestamp: "TS"}
spec:
  parentRefs: [{name: gw}]
  rules: [{name: NAME, matches: [{path: {type: Exact, value: /x}}], backendRefs: [{name: svc, port: 8080}]}]
)";
  auto make = [&](const std::string& name, const std::string& ts) {
    std::string s = route;
    for (size_t at; (at = s.find("NAME")) != std::string::npos;) s.replace(at, 4, name);
    s.replace(s.find("TS"), 2, ts);
    return s;
  };
  const GatewayApiTranslation t =
      translate(make("b-older", "2020-01-01T00:00:00Z") + "---\n" + make("a-newer", "2021-01-01T00:00:00Z"));
  ASSERT_EQ(t.virtual_services.size(), 1u);
  EXPECT_EQ(order(t.virtual_services[0]), (std::vector<std::string>{"b-older:=/x", "a-newer:=/x"}));
}

TEST(GatewayApiTranslation, OtherClassIsNotServed) {
  GatewayIdentity identity;
  identity.gateway_class = "other";
  const GatewayApiTranslation t = translate(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
)",
                                            identity);
  EXPECT_TRUE(t.gateways.empty());
  EXPECT_TRUE(t.virtual_services.empty());
}

TEST(GatewayApiTranslation, RuleWithoutBackendsIsDirect500AndBrokenBackendIsKept) {
  const GatewayApiTranslation t = translate(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: infra}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: Exact, value: /none}}]
  - matches: [{path: {type: Exact, value: /half}}]
    backendRefs: [{name: svc, port: 8080}, {name: missing, port: 8080}]
)");
  ASSERT_EQ(t.virtual_services.size(), 1u);
  const auto& http = t.virtual_services[0].http;
  ASSERT_EQ(http.size(), 2u);
  EXPECT_EQ(http[0].match[0].uri->value, "/none");
  ASSERT_TRUE(http[0].direct_response.has_value());
  EXPECT_EQ(http[0].direct_response->status, 500u);
  ASSERT_EQ(http[1].route.size(), 2u);
  EXPECT_EQ(http[1].cluster_not_found_status, 500);
  EXPECT_EQ(http[1].route[0].destination.host, "svc.infra.svc.cluster.local");
}

}  // namespace
}  // namespace torii::compile
