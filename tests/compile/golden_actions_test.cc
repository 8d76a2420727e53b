// Golden tests for rule actions: YAML-equivalent resources in, request in,
// decision out (cluster, rewritten target and Host, upstream headers,
// response headers, redirect Location and code, direct response). Each test
// names the ISTIO_SEMANTICS section or Appendix B item it pins down.
#include <gtest/gtest.h>

#include "resource_builders.h"
#include "router/request_actions.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

// What the gateway would do with one request.
struct Decision {
  std::string cluster;  // "404", "redirect", "direct_response" or a cluster name
  std::string target;   // origin-form target sent upstream
  std::string host;     // Host sent upstream
  http::HeaderMap request_headers;
  http::HeaderMap response_headers;  // route response ops applied to {server, x-up: 1}
  int status = 0;                    // redirect / direct response
  std::string location;
  std::string body;

  std::string request_header(std::string_view name) const {
    const std::string_view* v = request_headers.get(name);
    return v == nullptr ? "<absent>" : std::string(*v);
  }
  std::string response_header(std::string_view name) const {
    const std::string_view* v = response_headers.get(name);
    return v == nullptr ? "<absent>" : std::string(*v);
  }
};

class GoldenActions : public ::testing::Test {
 protected:
  GoldenActions() {
    r.gateway("istio-system", "gw", {server(80, {"*"})});
    r.service("default", "httpbin", {service_port("http", 8000, 80)}, Labels{{"app", "httpbin"}});
    r.pod("default", "httpbin-1", "10.0.0.1", {{"app", "httpbin"}});
    r.service("default", "other", {service_port("http", 8000, 80)}, Labels{{"app", "other"}});
    r.pod("default", "other-1", "10.0.0.2", {{"app", "other"}});
  }

  config::VirtualService& vs(std::vector<config::HTTPRoute> http,
                             std::vector<std::string> hosts = {"a.com"}) {
    return r.virtual_service("default", "vs" + std::to_string(++count_), std::move(hosts),
                             {"istio-system/gw"}, std::move(http));
  }

  // `target` is path and query as the client sent it.
  Decision decide(const Compiled& c, Request request, uint64_t random = 0) {
    Decision d;
    std::string target = request.path + (request.query.empty() ? "" : "?" + request.query);
    const router::Route* route = c.route(request);
    if (route == nullptr) {
      d.cluster = "404";
      return d;
    }
    router::RedirectRequest info{request.scheme, request.authority, "http", target};
    d.response_headers.add("server", "istio-envoy");
    d.response_headers.add("x-up", "1");
    if (route->redirect) {
      d.cluster = "redirect";
      d.status = route->redirect->status;
      d.location = router::redirect_location(*route->redirect, route->match.path, info);
      router::apply_response_actions(*route, nullptr, d.response_headers);
      return d;
    }
    if (route->direct_response) {
      d.cluster = "direct_response";
      d.status = route->direct_response->status;
      d.body = route->direct_response->body;
      d.location = router::direct_response_location(d.status, info);
      router::apply_response_actions(*route, nullptr, d.response_headers);
      return d;
    }
    const router::WeightedCluster& chosen = route->action.pick(random);
    d.cluster = chosen.name;
    d.request_headers = request.headers;
    d.request_headers.set("host", request.authority);
    std::string rewritten;
    d.target = router::apply_request_actions(*route, chosen, d.request_headers, target, rewritten) ? rewritten
                                                                                                   : target;
    d.host = *d.request_headers.get("host");
    router::apply_response_actions(*route, &chosen, d.response_headers);
    return d;
  }

  Resources r;
  int count_ = 0;
};

config::HTTPRoute with_rewrite(config::HTTPRoute rule, std::string uri, std::string authority = "") {
  rule.rewrite = config::HTTPRewrite{};
  rule.rewrite->uri = std::move(uri);
  rule.rewrite->authority = std::move(authority);
  return rule;
}

config::HTTPRoute redirect_rule(std::vector<config::HTTPMatchRequest> match, config::HTTPRedirect redirect) {
  config::HTTPRoute rule = testing::rule(std::move(match), {});
  rule.redirect = std::move(redirect);
  return rule;
}

// ---- rewrite (§3.6)

TEST_F(GoldenActions, RewriteUriReplacesTheMatchedPrefixAndKeepsTheQuery) {
  vs({with_rewrite(rule({uri(prefix("/api/"))}, {dest("httpbin")}), "/v2/")});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/api/users?id=7"));
  EXPECT_EQ(d.cluster, kHttpbin);
  EXPECT_EQ(d.target, "/v2/users?id=7");
  EXPECT_EQ(d.request_header("x-envoy-original-path"), "/api/users?id=7");
}

TEST_F(GoldenActions, B19_RewriteToSlashAfterPrefixWithoutSlashGivesDoubleSlash) {
  vs({with_rewrite(rule({uri(prefix("/foo"))}, {dest("httpbin")}), "/")});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/foo/bar")).target, "//bar");
  EXPECT_EQ(decide(c, Request("a.com", "/foobar")).target, "/bar");
}

TEST_F(GoldenActions, RewriteUriWithExactOrRegexMatchReplacesTheWholePath) {
  vs({with_rewrite(rule({uri(exact("/old"))}, {dest("httpbin")}), "/new"),
      with_rewrite(rule({uri(regex("/r/[0-9]+"))}, {dest("httpbin")}), "/numbers")});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/old?x=1")).target, "/new?x=1");
  EXPECT_EQ(decide(c, Request("a.com", "/r/42")).target, "/numbers");
}

TEST_F(GoldenActions, RewriteUriWithoutUriMatchReplacesTheImplicitSlash) {
  vs({with_rewrite(rule({}, {dest("httpbin")}), "/v1/")});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/a/b")).target, "/v1/a/b");
}

TEST_F(GoldenActions, RewriteUriWithIgnoreUriCaseReplacesTheMatchedLength) {
  config::HTTPMatchRequest m = uri(prefix("/API"));
  m.ignore_uri_case = true;
  vs({with_rewrite(rule({m}, {dest("httpbin")}), "/internal")});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/api/x")).target, "/internal/x");
}

TEST_F(GoldenActions, UriRegexRewriteSubstitutesCaptureGroups) {
  config::HTTPRoute rule = testing::rule({uri(prefix("/z2m/"))}, {dest("httpbin")});
  rule.rewrite = config::HTTPRewrite{};
  rule.rewrite->uri_regex_rewrite = std::make_pair(std::string("^/z2m(/|$)(.*)"), std::string("/\\2"));
  vs({rule});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/z2m/devices/1?q=a/b"));
  EXPECT_EQ(d.target, "/devices/1?q=a/b");  // the query is never rewritten
  EXPECT_EQ(d.request_header("x-envoy-original-path"), "/z2m/devices/1?q=a/b");
}

TEST_F(GoldenActions, UriRegexRewriteReplacesEveryMatch) {
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin")});
  rule.rewrite = config::HTTPRewrite{};
  rule.rewrite->uri_regex_rewrite = std::make_pair(std::string("-"), std::string("_"));
  vs({rule});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/a-b/c-d")).target, "/a_b/c_d");
}

TEST_F(GoldenActions, InvalidRewriteSubstitutionDropsTheRule) {
  config::HTTPRoute bad = testing::rule({uri(prefix("/x"))}, {dest("other")});
  bad.rewrite = config::HTTPRewrite{};
  bad.rewrite->uri_regex_rewrite = std::make_pair(std::string("/(a)"), std::string("/\\2"));
  vs({bad, rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/x")).cluster, kHttpbin);
  EXPECT_TRUE(c.has_diagnostic("spec.http[0].rewrite.uriRegexRewrite")) << c.all_diagnostics();
}

TEST_F(GoldenActions, RewriteAuthoritySetsHostAndNoOriginalPathWithoutPathRewrite) {
  vs({with_rewrite(rule({}, {dest("httpbin")}), "", "internal.example")});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com:8080", "/p?q"));
  EXPECT_EQ(d.host, "internal.example");
  EXPECT_EQ(d.target, "/p?q");
  EXPECT_EQ(d.request_header("x-envoy-original-path"), "<absent>");
}

// ---- header operations (§3.11)

config::Headers headers(std::map<std::string, std::string> req_set,
                        std::map<std::string, std::string> req_add, std::vector<std::string> req_remove,
                        std::map<std::string, std::string> resp_set = {},
                        std::map<std::string, std::string> resp_add = {},
                        std::vector<std::string> resp_remove = {}) {
  config::Headers h;
  h.request.set = std::move(req_set);
  h.request.add = std::move(req_add);
  h.request.remove = std::move(req_remove);
  h.response.set = std::move(resp_set);
  h.response.add = std::move(resp_add);
  h.response.remove = std::move(resp_remove);
  return h;
}

TEST_F(GoldenActions, RuleHeadersSetAddRemoveBothDirections) {
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin")});
  rule.headers = headers({{"X-Set", "s"}}, {{"x-add", "a"}}, {"x-drop"}, {{"x-resp", "r"}}, {{"x-up", "2"}},
                         {"server-timing"});
  vs({rule});
  Compiled c(r.set);
  Request request("a.com", "/");
  request.header("x-set", "client").header("x-add", "client").header("x-drop", "gone");
  Decision d = decide(c, request);
  EXPECT_EQ(d.request_header("x-set"), "s");                     // overwritten; names lower-cased
  EXPECT_EQ(d.request_headers.get_joined("x-add"), "client,a");  // appended as a second field
  EXPECT_EQ(d.request_header("x-drop"), "<absent>");
  EXPECT_EQ(d.response_header("x-resp"), "r");
  EXPECT_EQ(d.response_headers.get_joined("x-up"), "1,2");
}

TEST_F(GoldenActions, HeaderValuesAreEnvoyFormatStrings) {
  // Envoy reads values as format strings: "%%" is '%'. %VARIABLE% substitution is not
  // implemented, so such an operation is left out (validation warns); so is a name that
  // is not an HTTP token (it could not be sent). The authority is literal.
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin")});
  rule.headers = headers({{"x-pct", "100%%"},
                          {"x-ip", "%DOWNSTREAM_REMOTE_ADDRESS%"},
                          {"x y", "v"},
                          {"x_weird!#$", "ok"},
                          {"host", "a%%b.example"}},
                         {}, {"x/y"}, {{"x-resp", "50%% off"}}, {{"x-var", "%START_TIME%"}}, {});
  vs({rule});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/"));
  EXPECT_EQ(d.request_header("x-pct"), "100%");
  EXPECT_EQ(d.request_header("x-ip"), "<absent>");
  EXPECT_EQ(d.request_header("x y"), "<absent>");
  EXPECT_EQ(d.request_header("x_weird!#$"), "ok");
  EXPECT_EQ(d.host, "a%%b.example");
  EXPECT_EQ(d.response_header("x-resp"), "50% off");
  EXPECT_EQ(d.response_header("x-var"), "<absent>");
}

TEST_F(GoldenActions, RemoveRunsBeforeSetAndAdd) {
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin")});
  rule.headers = headers({{"x-a", "new"}}, {}, {"x-a"});
  vs({rule});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/").header("x-a", "old")).request_header("x-a"), "new");
}

TEST_F(GoldenActions, HeaderOpsNeverChangeMessageFraming) {
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin")});
  rule.headers =
      headers({{"content-length", "0"}}, {{"transfer-encoding", "chunked"}}, {}, {}, {}, {"content-length"});
  vs({rule});
  Compiled c(r.set);
  const router::Route* route = c.route(Request("a.com", "/"));
  ASSERT_NE(route, nullptr);
  http::HeaderMap request;
  request.add("content-length", "5");
  std::string target;
  router::apply_request_actions(*route, route->action.pick(0), request, "/", target);
  EXPECT_EQ(request.get_joined("content-length"), "5");
  EXPECT_FALSE(request.has("transfer-encoding"));
  http::HeaderMap response;
  response.add("content-length", "12");
  router::apply_response_actions(*route, &route->action.pick(0), response);
  EXPECT_EQ(response.get_joined("content-length"), "12");
}

TEST_F(GoldenActions, AuthorityInHeadersIsAHostRewriteAndHostOpsAreDropped) {
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin")});
  rule.headers = headers({{":authority", "set.example"}}, {{"host", "add.example"}}, {"host", ":path"});
  vs({rule});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/x"));
  EXPECT_EQ(d.host, "set.example");  // set wins over add
  EXPECT_EQ(d.target, "/x");
}

TEST_F(GoldenActions, SingleDestinationHeadersComeAfterTheRuleHeaders) {
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin")});
  rule.headers = headers({}, {{"x-tier", "rule"}}, {}, {{"x-who", "rule"}});
  rule.route[0].headers = headers({{"x-tier", "dest"}}, {}, {}, {{"x-who", "dest"}});
  vs({rule});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/"));
  EXPECT_EQ(d.request_headers.get_joined("x-tier"), "dest");  // destination set beats rule add
  EXPECT_EQ(d.response_header("x-who"), "dest");
}

TEST_F(GoldenActions, WeightedDestinationHeadersApplyOnlyToThatDestinationAndBeforeTheRule) {
  config::HTTPRoute rule = testing::rule({}, {dest("httpbin", 0, "", 1), dest("other", 0, "", 1)});
  rule.headers = headers({{"x-level", "rule"}}, {}, {});
  rule.route[0].headers =
      headers({{"x-level", "dest"}, {"x-dest", "httpbin"}}, {}, {}, {{"x-from", "httpbin"}});
  vs({rule});
  Compiled c(r.set);
  Decision first = decide(c, Request("a.com", "/"), 0);
  Decision second = decide(c, Request("a.com", "/"), 1);
  ASSERT_EQ(first.cluster, kHttpbin);
  ASSERT_EQ(second.cluster, kOther);
  EXPECT_EQ(first.request_header("x-dest"), "httpbin");
  EXPECT_EQ(first.request_header("x-level"), "rule");  // Envoy: route-level ops run after the cluster's
  EXPECT_EQ(first.response_header("x-from"), "httpbin");
  EXPECT_EQ(second.request_header("x-dest"), "<absent>");
  EXPECT_EQ(second.response_header("x-from"), "<absent>");
}

TEST_F(GoldenActions, DestinationAuthorityOnlyWhenTheRuleHasNone) {
  config::HTTPRoute plain = testing::rule({uri(prefix("/plain"))}, {dest("httpbin")});
  plain.route[0].headers = headers({{"host", "dest.example"}}, {}, {});
  config::HTTPRoute both = with_rewrite(testing::rule({}, {dest("httpbin")}), "", "rule.example");
  both.route[0].headers = headers({{":authority", "dest.example"}}, {}, {});
  vs({plain, both});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/plain")).host, "dest.example");
  EXPECT_EQ(decide(c, Request("a.com", "/other")).host, "rule.example");
}

// ---- redirect (§3.6)

config::HTTPRedirect redirect(std::string uri = "", std::string authority = "", std::string scheme = "",
                              uint32_t port = 0, std::string derive_port = "", uint32_t code = 0) {
  config::HTTPRedirect r;
  r.uri = std::move(uri);
  r.authority = std::move(authority);
  r.scheme = std::move(scheme);
  r.port = port;
  r.derive_port = std::move(derive_port);
  r.redirect_code = code;
  return r;
}

TEST_F(GoldenActions, RedirectUriKeepsTheQueryAndDefaultsTo301) {
  vs({redirect_rule({uri(prefix("/old"))}, redirect("/new"))});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/old/x?q=1"));
  EXPECT_EQ(d.status, 301);
  EXPECT_EQ(d.location, "http://a.com/new?q=1");
}

TEST_F(GoldenActions, RedirectUriWithItsOwnQueryReplacesTheQuery) {
  vs({redirect_rule({}, redirect("/new?from=old"))});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/x?q=1")).location, "http://a.com/new?from=old");
}

TEST_F(GoldenActions, RedirectAuthoritySchemeAndCode) {
  vs({redirect_rule({}, redirect("", "b.com", "https", 0, "", 308))});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/p?q"));
  EXPECT_EQ(d.status, 308);
  EXPECT_EQ(d.location, "https://b.com/p?q");
}

TEST_F(GoldenActions, RedirectSchemeChangeDropsTheRequestsDefaultPort) {
  vs({redirect_rule({}, redirect("", "", "https"))});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com:80", "/p")).location, "https://a.com/p");         // :80 of http dropped
  EXPECT_EQ(decide(c, Request("a.com:8080", "/p")).location, "https://a.com:8080/p");  // other ports kept
}

TEST_F(GoldenActions, RedirectPortReplacesTheRequestPort) {
  vs({redirect_rule({uri(prefix("/a"))}, redirect("", "", "", 8443)),
      redirect_rule({uri(prefix("/b"))}, redirect("", "", "", 80)),
      redirect_rule({uri(prefix("/c"))}, redirect("", "", "https", 443)),
      redirect_rule({uri(prefix("/d"))}, redirect("", "", "https", 80))});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com:9000", "/a")).location, "http://a.com:8443/a");
  // istiod drops an explicit :80 on http, so Envoy has no port to set and
  // keeps the request's own.
  EXPECT_EQ(decide(c, Request("a.com:9000", "/b")).location, "http://a.com:9000/b");
  EXPECT_EQ(decide(c, Request("a.com", "/c")).location, "https://a.com/c");     // :443 on https dropped
  EXPECT_EQ(decide(c, Request("a.com", "/d")).location, "https://a.com:80/d");  // :80 on https kept
}

TEST_F(GoldenActions, RedirectDerivePortFromRequestPortIsTheGatewayPort) {
  config::Gateway gateway = r.set.gateways.front();
  gateway.servers.front().port.number = 8000;
  r.set.gateways = {gateway};
  vs({redirect_rule({uri(prefix("/req"))}, redirect("", "b.com", "", 0, "FROM_REQUEST_PORT")),
      redirect_rule({uri(prefix("/def"))}, redirect("", "", "https", 0, "FROM_PROTOCOL_DEFAULT"))});
  GatewayIdentity identity;
  identity.port_map = {{8000, 31000}};
  Compiled c(r.set, identity);
  router::RedirectRequest info{"http", "a.com:31000", "http", "/req"};
  // istiod builds routes per Gateway port: FROM_REQUEST_PORT is 8000, not the bind port.
  const router::Route* route = c.route(Request("a.com:31000", "/req"), "0.0.0.0_31000");
  ASSERT_NE(route, nullptr);
  ASSERT_TRUE(route->redirect);
  EXPECT_EQ(router::redirect_location(*route->redirect, route->match.path, info), "http://b.com:8000/req");
  // FROM_PROTOCOL_DEFAULT: no port of its own; the request's non-default port stays (Envoy).
  const router::Route* def = c.route(Request("a.com:31000", "/def"), "0.0.0.0_31000");
  ASSERT_NE(def, nullptr);
  info.path_and_query = "/def";
  EXPECT_EQ(router::redirect_location(*def->redirect, def->match.path, info), "https://a.com:31000/def");
}

TEST_F(GoldenActions, RedirectFromRequestPortOn80IsDropped) {
  vs({redirect_rule({}, redirect("", "b.com", "", 0, "FROM_REQUEST_PORT"))});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/x")).location, "http://b.com/x");
}

TEST_F(GoldenActions, B18_UnsupportedRedirectCodeDropsTheRoute) {
  vs({redirect_rule({uri(prefix("/r"))}, redirect("/n", "", "", 0, "", 300)), rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/r")).cluster, kHttpbin);
  EXPECT_TRUE(c.has_diagnostic("redirect code 300")) << c.all_diagnostics();
}

TEST_F(GoldenActions, RedirectPrefixRewriteReplacesTheMatchedPrefix) {
  config::HTTPRedirect rd;
  rd.prefix_rewrite = "/v2";
  vs({redirect_rule({uri(prefix("/v1"))}, rd)});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/v1/items?x")).location, "http://a.com/v2/items?x");
}

TEST_F(GoldenActions, RedirectGetsRuleResponseHeaders) {
  config::HTTPRoute rule = redirect_rule({}, redirect("/n"));
  rule.headers = headers({}, {}, {}, {{"cache-control", "no-store"}});
  vs({rule});
  Compiled c(r.set);
  EXPECT_EQ(decide(c, Request("a.com", "/")).response_header("cache-control"), "no-store");
}

// ---- directResponse (§3.6)

TEST_F(GoldenActions, DirectResponseStatusBodyAndResponseHeaders) {
  config::HTTPRoute rule = testing::rule({uri(exact("/health"))}, {});
  rule.direct_response = config::HTTPDirectResponse{503, std::string("down for maintenance")};
  rule.headers = headers({}, {}, {}, {{"content-type", "application/json"}});
  vs({rule, testing::rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/health"));
  EXPECT_EQ(d.cluster, "direct_response");
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.body, "down for maintenance");
  EXPECT_EQ(d.response_header("content-type"), "application/json");
  EXPECT_EQ(d.location, "");
  EXPECT_EQ(decide(c, Request("a.com", "/other")).cluster, kHttpbin);
}

TEST_F(GoldenActions, DirectResponseWithoutBodyAndWith3xxGetsLocation) {
  config::HTTPRoute rule = testing::rule({}, {});
  rule.direct_response = config::HTTPDirectResponse{302, std::nullopt};
  vs({rule});
  Compiled c(r.set);
  Decision d = decide(c, Request("a.com", "/p?q=1"));
  EXPECT_EQ(d.status, 302);
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(d.location, "http://a.com/p?q=1");  // Envoy router: 201/3xx direct responses carry Location
}

}  // namespace
}  // namespace torii::compile
