// VirtualService fields read from their camelCase YAML names.
#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::load_istio;
using testing::no_errors;

VirtualService only_vs(const LoadResult& r) {
  EXPECT_EQ(r.resources().virtual_services.size(), 1u) << testing::dump(r.diagnostics);
  static const VirtualService kEmpty;
  return r.resources().virtual_services.empty() ? kEmpty : r.resources().virtual_services[0];
}

TEST(ParseVirtualServiceTest, MatchFields) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
gateways: [istio-system/gw]
exportTo: ["."]
http:
- name: rule
  match:
  - name: m0
    uri: {exact: /exact}
    scheme: {exact: https}
    method: {prefix: GE}
    authority: {regex: "a\\.example\\.com(:\\d+)?"}
    headers:
      x-exact: {exact: v}
      x-present: {}
      x-empty: {exact: ""}
    withoutHeaders:
      x-absent: {}
      x-star: {regex: "*"}
      x-null:
    queryParams:
      debug: {exact: "1"}
      page: {regex: "\\d+"}
    port: 8080
    gateways: [istio-system/gw]
    sourceLabels: {app: web}
    sourceNamespace: frontend
    ignoreUriCase: true
  route: [{destination: {host: a}}]
)");
  ASSERT_TRUE(no_errors(r));
  const VirtualService& vs = only_vs(r);
  EXPECT_EQ(vs.export_to, std::vector<std::string>{"."});
  ASSERT_EQ(vs.http.size(), 1u);
  EXPECT_EQ(vs.http[0].name, "rule");
  const HTTPMatchRequest& m = vs.http[0].match.at(0);
  EXPECT_EQ(m.name, "m0");
  EXPECT_EQ(m.uri->kind, StringMatch::Kind::Exact);
  EXPECT_EQ(m.uri->value, "/exact");
  EXPECT_EQ(m.scheme->value, "https");
  EXPECT_EQ(m.method->kind, StringMatch::Kind::Prefix);
  EXPECT_EQ(m.authority->kind, StringMatch::Kind::Regex);
  EXPECT_EQ(m.authority->value, "a\\.example\\.com(:\\d+)?");
  EXPECT_EQ(m.headers.at("x-exact").kind, StringMatch::Kind::Exact);
  EXPECT_EQ(m.headers.at("x-present").kind, StringMatch::Kind::Presence);
  // In withoutHeaders, `regex: "*"` and null are presence (istiod canBeConvertedToPresentMatch).
  EXPECT_EQ(m.without_headers.at("x-star").kind, StringMatch::Kind::Presence);
  EXPECT_EQ(m.without_headers.at("x-null").kind, StringMatch::Kind::Presence);
  EXPECT_EQ(m.headers.at("x-empty").kind, StringMatch::Kind::Exact);
  EXPECT_EQ(m.headers.at("x-empty").value, "");
  EXPECT_EQ(m.without_headers.at("x-absent").kind, StringMatch::Kind::Presence);
  EXPECT_EQ(m.query_params.at("debug").value, "1");
  EXPECT_EQ(m.query_params.at("page").kind, StringMatch::Kind::Regex);
  EXPECT_EQ(m.port, 8080u);
  EXPECT_EQ(m.gateways, std::vector<std::string>{"istio-system/gw"});
  EXPECT_EQ(m.source_labels.at("app"), "web");
  EXPECT_EQ(m.source_namespace, "frontend");
  EXPECT_TRUE(m.ignore_uri_case);
}

TEST(ParseVirtualServiceTest, NoUriMatchIsAbsent) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- match: [{headers: {x: {exact: y}}}]
  route: [{destination: {host: a}}]
)");
  ASSERT_TRUE(no_errors(r));
  EXPECT_FALSE(only_vs(r).http[0].match[0].uri.has_value());
}

TEST(ParseVirtualServiceTest, StringMatchWithTwoFormsIsAnError) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- match: [{uri: {exact: /a, prefix: /b}}]
  route: [{destination: {host: a}}]
)");
  EXPECT_TRUE(has_error(r, "spec.http[0].match[0].uri", "only one of exact, prefix or regex may be set"));
}

TEST(ParseVirtualServiceTest, StringMatchUnknownFieldWarns) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- match: [{uri: {prefx: /a}}]
  route: [{destination: {host: a}}]
)");
  EXPECT_TRUE(has_warning(r, "spec.http[0].match[0].uri[prefx]", "unknown field \"prefx\""));
  EXPECT_EQ(only_vs(r).http[0].match[0].uri->kind, StringMatch::Kind::Presence);
}

TEST(ParseVirtualServiceTest, RouteDestinationsWeightsAndHeaders) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- route:
  - destination: {host: a, subset: v1, port: {number: 9080}}
    weight: 90
    headers:
      request:
        set: {x-version: v1}
        add: {x-trace: "1"}
        remove: [x-internal]
      response:
        set: {cache-control: no-store}
  - destination: {host: b}
    weight: 10
  - destination: {host: c}
  headers:
    response: {remove: [server]}
)");
  ASSERT_TRUE(no_errors(r));
  const HTTPRoute route = only_vs(r).http[0];
  ASSERT_EQ(route.route.size(), 3u);
  const HTTPRouteDestination& d = route.route[0];
  EXPECT_EQ(d.destination.host, "a");
  EXPECT_EQ(d.destination.subset, "v1");
  EXPECT_EQ(d.destination.port.number, 9080u);
  EXPECT_EQ(d.weight, 90);
  EXPECT_TRUE(d.weight_set);
  ASSERT_TRUE(d.headers.has_value());
  EXPECT_EQ(d.headers->request.set.at("x-version"), "v1");
  EXPECT_EQ(d.headers->request.add.at("x-trace"), "1");
  EXPECT_EQ(d.headers->request.remove, std::vector<std::string>{"x-internal"});
  EXPECT_EQ(d.headers->response.set.at("cache-control"), "no-store");
  EXPECT_FALSE(route.route[2].weight_set);
  EXPECT_EQ(route.route[2].weight, 0);
  ASSERT_TRUE(route.headers.has_value());
  EXPECT_EQ(route.headers->response.remove, std::vector<std::string>{"server"});
}

TEST(ParseVirtualServiceTest, Redirect) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- redirect: {uri: /new, authority: b.example.com, scheme: https, port: 8443, redirectCode: 308}
- redirect: {prefixRewrite: /v2, derivePort: from_request_port}
)");
  ASSERT_TRUE(no_errors(r));
  const HTTPRedirect a = *only_vs(r).http[0].redirect;
  EXPECT_EQ(a.uri, "/new");
  EXPECT_EQ(a.authority, "b.example.com");
  EXPECT_EQ(a.scheme, "https");
  EXPECT_EQ(a.port, 8443u);
  EXPECT_EQ(a.redirect_code, 308u);
  const HTTPRedirect b = *only_vs(r).http[1].redirect;
  EXPECT_EQ(b.prefix_rewrite, "/v2");
  EXPECT_EQ(b.derive_port, "FROM_REQUEST_PORT");
  EXPECT_EQ(b.redirect_code, 0u);
}

TEST(ParseVirtualServiceTest, RedirectPortAndDerivePortAreExclusive) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- redirect: {port: 80, derivePort: FROM_PROTOCOL_DEFAULT}
)");
  EXPECT_TRUE(has_error(r, "spec.http[0].redirect.derivePort", "only one of port or derivePort"));
}

TEST(ParseVirtualServiceTest, DirectResponseStringAndBytes) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- directResponse: {status: 503, body: {string: "unavailable\n"}}
- match: [{uri: {prefix: /b}}]
  directResponse: {status: 200, body: {bytes: aGVsbG8gd29ybGQ=}}
- match: [{uri: {prefix: /c}}]
  directResponse: {status: 204}
- match: [{uri: {prefix: /d}}]
  directResponse: {status: 200, body: {bytes: "_-8"}}
)");
  ASSERT_TRUE(no_errors(r));
  const VirtualService& vs = only_vs(r);
  EXPECT_EQ(vs.http[0].direct_response->status, 503u);
  EXPECT_EQ(vs.http[0].direct_response->body, "unavailable\n");
  EXPECT_EQ(vs.http[1].direct_response->body, "hello world");
  EXPECT_FALSE(vs.http[2].direct_response->body.has_value());
  EXPECT_EQ(vs.http[3].direct_response->body, std::string("\xff\xef", 2));  // URL-safe alphabet, no padding
}

TEST(ParseVirtualServiceTest, DirectResponseBadBase64) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- directResponse: {status: 200, body: {bytes: "not base64!"}}
)");
  EXPECT_TRUE(has_error(r, "spec.http[0].directResponse.body.bytes", "invalid base64"));
}

TEST(ParseVirtualServiceTest, RewriteRetriesTimeoutDelegateFault) {
  const LoadResult r = load_istio("VirtualService", R"yaml(
hosts: [a.example.com]
http:
- match: [{uri: {prefix: /api}}]
  rewrite:
    authority: internal.example.com
    uriRegexRewrite: {match: "^/api/(.*)", rewrite: "/\\1"}
  timeout: 1.5s
  retries: {attempts: 3, perTryTimeout: 100ms, retryOn: "5xx,reset", retryRemoteLocalities: true}
  fault: {abort: {httpStatus: 500, percentage: {value: 1}}}
  route: [{destination: {host: a}}]
- match: [{uri: {prefix: /v1}}]
  rewrite: {uri: /v2}
  timeout: 1m
  retries: {attempts: 0}
  route: [{destination: {host: a}}]
- delegate: {name: child, namespace: team}
)yaml");
  ASSERT_TRUE(no_errors(r));
  const VirtualService& vs = only_vs(r);
  const HTTPRoute& a = vs.http[0];
  EXPECT_EQ(a.rewrite->authority, "internal.example.com");
  ASSERT_TRUE(a.rewrite->uri_regex_rewrite.has_value());
  EXPECT_EQ(a.rewrite->uri_regex_rewrite->first, "^/api/(.*)");
  EXPECT_EQ(a.rewrite->uri_regex_rewrite->second, "/\\1");
  EXPECT_EQ(a.timeout_ms, 1500);
  EXPECT_EQ(a.retries->attempts, 3);
  EXPECT_EQ(a.retries->per_try_timeout_ms, 100);
  EXPECT_EQ(a.retries->retry_on, "5xx,reset");
  EXPECT_EQ(a.retries->retry_remote_localities, true);
  EXPECT_TRUE(a.has_fault);
  const HTTPRoute& b = vs.http[1];
  EXPECT_EQ(b.rewrite->uri, "/v2");
  EXPECT_FALSE(b.rewrite->uri_regex_rewrite.has_value());
  EXPECT_EQ(b.timeout_ms, 60000);
  EXPECT_EQ(b.retries->attempts, 0);
  EXPECT_EQ(b.retries->per_try_timeout_ms, -1);
  EXPECT_FALSE(b.retries->retry_remote_localities.has_value());
  EXPECT_FALSE(b.has_fault);
  EXPECT_EQ(vs.http[2].delegate->name, "child");
  EXPECT_EQ(vs.http[2].delegate->namespace_, "team");
  EXPECT_EQ(vs.http[2].timeout_ms, -1);
  EXPECT_FALSE(vs.http[2].retries.has_value());
}

TEST(ParseVirtualServiceTest, DurationErrorsNameTheField) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
http:
- route: [{destination: {host: a}}]
  timeout: 10
  retries: {attempts: 1, perTryTimeout: 1500us}
- match: [{uri: {prefix: /x}}]
  route: [{destination: {host: a}}]
  timeout: -1s
)");
  EXPECT_TRUE(has_error(r, "spec.http[0].timeout", "missing unit in duration \"10\""));
  EXPECT_TRUE(
      has_error(r, "spec.http[0].retries.perTryTimeout", "only durations to ms precision are supported"));
  EXPECT_TRUE(has_error(r, "spec.http[1].timeout", "duration must be greater than 1ms"));
}

TEST(ParseVirtualServiceTest, TlsAndTcpRoutesAreRecorded) {
  const LoadResult r = load_istio("VirtualService", R"(
hosts: [a.example.com]
tls:
- match: [{sniHosts: [a.example.com]}]
  route: [{destination: {host: a}}]
tcp:
- route: [{destination: {host: a}}]
)");
  ASSERT_TRUE(no_errors(r));
  EXPECT_TRUE(only_vs(r).has_tls);
  EXPECT_TRUE(only_vs(r).has_tcp);
  EXPECT_TRUE(only_vs(r).http.empty());
}

}  // namespace
}  // namespace torii::config
