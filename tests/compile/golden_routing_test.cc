// Golden tests: resources in, request in, route/cluster out. Each test names
// the ISTIO_SEMANTICS section or Appendix B item it pins down.
#include <gtest/gtest.h>

#include <map>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

// A gateway on port 80 for every host, and httpbin:8000 with one ready pod.
class GoldenRouting : public ::testing::Test {
 protected:
  GoldenRouting() {
    r.gateway("istio-system", "gw", {server(80, {"*"})});
    r.service("default", "httpbin", {service_port("http", 8000, 80)}, Labels{{"app", "httpbin"}});
    r.pod("default", "httpbin-1", "10.0.0.1", {{"app", "httpbin"}});
    r.service("default", "other", {service_port("http", 8000, 80)}, Labels{{"app", "other"}});
    r.pod("default", "other-1", "10.0.0.2", {{"app", "other"}});
  }

  config::VirtualService& vs(const std::string& name, std::vector<std::string> hosts,
                             std::vector<config::HTTPRoute> http, const std::string& ns = "default") {
    return r.virtual_service(ns, name, std::move(hosts), {"istio-system/gw"}, std::move(http));
  }

  Resources r;
};

TEST_F(GoldenRouting, B1_PrefixHasNoSegmentSemantics) {
  vs("api", {"a.com"}, {rule({uri(prefix("/api"))}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/api")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/apiv2")), kHttpbin);  // B.1
  EXPECT_EQ(c.cluster(Request("a.com", "/api.html")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/ap")), "404");
}

TEST_F(GoldenRouting, B2_ShortNamesResolveInTheVirtualServiceNamespace) {
  // VS in `a` says `reviews`; only namespace `b` has that Service.
  r.service("b", "reviews", {service_port("http", 9080)}, Labels{{"app", "reviews"}});
  vs("reviews", {"reviews"}, {rule({}, {dest("reviews")})}, "a");
  Compiled c(r.set);
  // The VS host became reviews.a.svc.cluster.local too.
  EXPECT_EQ(c.cluster(Request("reviews", "/")), "404");
  const router::Route* route = c.route(Request("reviews.a.svc.cluster.local", "/"));
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->action.pick(0).name, "outbound|80||reviews.a.svc.cluster.local");
  EXPECT_EQ(route->action.pick(0).cluster, nullptr);  // => 503 NC
  EXPECT_TRUE(c.has_diagnostic("503 (NC)")) << c.all_diagnostics();
}

TEST_F(GoldenRouting, B3_OlderCatchAllDoesNotShadowNewerSpecificRoutes) {
  // Older VS: catch-all first, then a rule that can never be reached.
  vs("shop-old", {"shop.com"},
     {rule({uri(prefix("/"))}, {dest("httpbin")}), rule({uri(prefix("/never"))}, {dest("other")})});
  vs("shop-new", {"shop.com"}, {rule({uri(prefix("/cart"))}, {dest("other")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("shop.com", "/cart")), kOther);  // newer VS still wins for /cart
  EXPECT_EQ(c.cluster(Request("shop.com", "/anything")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("shop.com", "/never")), kHttpbin);  // rule after the catch-all vanished

  const auto* vhost = c.listener()->routes->find_virtual_host("shop.com");
  ASSERT_NE(vhost, nullptr);
  ASSERT_EQ(vhost->routes.size(), 2u);
  EXPECT_EQ(vhost->routes[0].virtual_service, "default/shop-new");
  EXPECT_EQ(vhost->routes[1].virtual_service, "default/shop-old");
}

TEST_F(GoldenRouting, B3_RuleWithoutMatchEndsTheVirtualService) {
  vs("vs", {"a.com"},
     {rule({uri(exact("/x"))}, {dest("other")}), rule({}, {dest("httpbin")}),
      rule({uri(exact("/y"))}, {dest("other")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/x")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/y")), kHttpbin);
  EXPECT_EQ(c.listener()->routes->find_virtual_host("a.com")->routes.size(), 2u);
}

TEST_F(GoldenRouting, B3_CatchAllMatchBlockEndsTheRuleAndTheVirtualService) {
  // Rule with blocks [/a, /, /b]: the `/` block is a catch-all, so /b (same
  // rule) and the next rule are dropped.
  vs("vs", {"a.com"},
     {rule({uri(prefix("/a")), uri(prefix("/")), uri(prefix("/b"))}, {dest("httpbin")}),
      rule({uri(prefix("/c"))}, {dest("other")})});
  Compiled c(r.set);
  const auto& routes = c.listener()->routes->find_virtual_host("a.com")->routes;
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].match_index, 0);
  EXPECT_EQ(routes[1].match_index, 1);
  EXPECT_EQ(c.cluster(Request("a.com", "/c")), kHttpbin);
}

TEST_F(GoldenRouting, RegexDotStarAndHeaderlessCatchAllsMoveLast) {
  // §0.5: regex `.*` is a catch-all; a `/` prefix with a header matcher is not.
  config::HTTPMatchRequest with_header = uri(prefix("/"));
  with_header.headers["x-canary"] = exact("1");
  vs("old", {"a.com"}, {rule({uri(regex(".*"))}, {dest("httpbin")})});
  vs("new", {"a.com"}, {rule({with_header}, {dest("other")}), rule({uri(prefix("/p"))}, {dest("other")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/z").header("x-canary", "1")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/p")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/z")), kHttpbin);
}

TEST_F(GoldenRouting, B4_NamespaceQualifiedServerHostsFilterVirtualServices) {
  Resources r2;
  r2.gateway("istio-system", "gw", {server(80, {"ns1/*"})});
  r2.service("ns1", "svc", {service_port("http", 80)});
  r2.service("ns2", "svc", {service_port("http", 80)});
  r2.virtual_service("ns2", "vs", {"a.com"}, {"istio-system/gw"}, {rule({}, {dest("svc")})});
  {
    Compiled c(r2.set);
    EXPECT_EQ(c.cluster(Request("a.com", "/")), "404");          // ns2's VS is ignored
    EXPECT_NE(c.listener()->routes->find_domain("*"), nullptr);  // blackhole
  }
  r2.virtual_service("ns1", "vs", {"a.com"}, {"istio-system/gw"}, {rule({}, {dest("svc")})});
  Compiled c(r2.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), "outbound|80||svc.ns1.svc.cluster.local");
}

TEST_F(GoldenRouting, DotSlashServerHostMeansTheGatewayNamespace) {
  Resources r2;
  r2.gateway("gw-ns", "gw", {server(80, {"./*"})});
  r2.service("gw-ns", "svc", {service_port("http", 80)});
  r2.virtual_service("gw-ns", "vs", {"a.com"}, {"gw-ns/gw"}, {rule({}, {dest("svc")})});
  r2.virtual_service("app", "vs", {"b.com"}, {"gw-ns/gw"}, {rule({}, {dest("svc.gw-ns.svc.cluster.local")})});
  Compiled c(r2.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), "outbound|80||svc.gw-ns.svc.cluster.local");
  EXPECT_EQ(c.cluster(Request("b.com", "/")), "404");
}

TEST_F(GoldenRouting, B5_ExportToDotInAnotherNamespaceIsNotAttached) {
  auto& v = vs("private", {"a.com"}, {rule({}, {dest("httpbin")})}, "app");
  v.export_to = {"."};
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), "404");
}

TEST_F(GoldenRouting, B6_WildcardServerDoesNotServeTheApex) {
  Resources r2;
  r2.gateway("istio-system", "gw", {server(80, {"*.example.com"})});
  r2.service("default", "httpbin", {service_port("http", 8000)});
  r2.virtual_service("default", "vs", {"example.com", "www.example.com"}, {"istio-system/gw"},
                     {rule({}, {dest("httpbin")})});
  Compiled c(r2.set);
  EXPECT_EQ(c.cluster(Request("www.example.com", "/")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("example.com", "/")), "404");
  EXPECT_EQ(c.listener()->routes->find_domain("example.com"), nullptr);
}

TEST_F(GoldenRouting, B6_WildcardVirtualHostDoesNotMatchTheApex) {
  vs("vs", {"*.example.com"}, {rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.b.example.com", "/")), kHttpbin);  // any depth
  EXPECT_EQ(c.cluster(Request("example.com", "/")), "404");
}

TEST_F(GoldenRouting, B7_HostPortIsIgnoredAndCaseDoesNotMatter) {
  vs("vs", {"A.com"}, {rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_NE(c.listener()->routes->find_domain("a.com"), nullptr);  // vhost domains are lower-case
  EXPECT_EQ(c.cluster(Request("a.com:31380", "/")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("A.COM", "/")), kHttpbin);
}

TEST_F(GoldenRouting, B8_WeightsAreRelative) {
  vs("vs", {"a.com"}, {rule({}, {dest("httpbin", 0, "", 1), dest("other", 0, "", 3)})});
  Compiled c(r.set);
  std::map<std::string, int> picks;
  // Every residue of the random input once: the split is exact.
  for (uint64_t random = 0; random < 400; ++random) picks[c.cluster(Request("a.com", "/"), random)]++;
  EXPECT_EQ(picks[kHttpbin], 100);
  EXPECT_EQ(picks[kOther], 300);
}

TEST_F(GoldenRouting, B8_ZeroWeightDestinationGetsNothing) {
  vs("vs", {"a.com"}, {rule({}, {dest("httpbin", 0, "", 0), dest("other", 0, "", 100)})});
  Compiled c(r.set);
  const router::Route* route = c.route(Request("a.com", "/"));
  ASSERT_NE(route, nullptr);
  ASSERT_EQ(route->action.clusters.size(), 1u);
  for (uint64_t random = 0; random < 200; ++random) EXPECT_EQ(route->action.pick(random).name, kOther);
}

TEST_F(GoldenRouting, B8_SingleDestinationGetsEverythingWhateverItsWeight) {
  vs("vs", {"a.com"}, {rule({}, {dest("httpbin", 0, "", 10)})});
  Compiled c(r.set);
  for (uint64_t random = 0; random < 50; ++random)
    EXPECT_EQ(c.cluster(Request("a.com", "/"), random), kHttpbin);
}

TEST_F(GoldenRouting, AllZeroWeightsDropTheRule) {
  vs("vs", {"a.com"},
     {rule({uri(prefix("/z"))}, {dest("httpbin"), dest("other")}), rule({}, {dest("other")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/z")), kOther);
  EXPECT_TRUE(c.has_diagnostic("total destination weight is 0")) << c.all_diagnostics();
}

TEST_F(GoldenRouting, B14_WithoutHeadersValueFormMatchesAMissingHeader) {
  config::HTTPMatchRequest m;
  m.without_headers["x-debug"] = exact("1");
  vs("vs", {"a.com"}, {rule({m}, {dest("other")}), rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), kOther);  // missing counts as ""
  EXPECT_EQ(c.cluster(Request("a.com", "/").header("x-debug", "2")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/").header("x-debug", "1")), kHttpbin);
}

TEST_F(GoldenRouting, B14_WithoutHeadersPresenceFormMeansAbsent) {
  config::HTTPMatchRequest m;
  m.without_headers["x-debug"] = presence();
  vs("vs", {"a.com"}, {rule({m}, {dest("other")}), rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/").header("x-debug", "")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/").header("x-debug", "1")), kHttpbin);
}

TEST_F(GoldenRouting, B14_WithoutHeadersExactEmptyNeedsANonEmptyHeader) {
  config::HTTPMatchRequest m;
  m.without_headers["x-debug"] = exact("");
  vs("vs", {"a.com"}, {rule({m}, {dest("other")}), rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), kHttpbin);  // missing == "" => inverted fails
  EXPECT_EQ(c.cluster(Request("a.com", "/").header("x-debug", "")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/").header("x-debug", "v")), kOther);
}

TEST_F(GoldenRouting, B15_HeaderPresenceAndEmptyValue) {
  config::HTTPMatchRequest present;
  present.headers["X-User"] = presence();  // header names are matched lower-case
  config::HTTPMatchRequest empty;
  empty.headers["x-empty"] = exact("");
  vs("vs", {"a.com"},
     {rule({present}, {dest("other")}, "present"), rule({empty}, {dest("httpbin")}, "empty"),
      rule({uri(prefix("/"))}, {dest("httpbin")}, "rest")});
  Compiled c(r.set);
  EXPECT_EQ(c.route(Request("a.com", "/").header("x-user", ""))->name, "present");
  EXPECT_EQ(c.route(Request("a.com", "/").header("x-user", "bob"))->name, "present");
  EXPECT_EQ(c.route(Request("a.com", "/").header("x-empty", ""))->name, "empty");
  EXPECT_EQ(c.route(Request("a.com", "/").header("x-empty", "v"))->name, "rest");
  EXPECT_EQ(c.route(Request("a.com", "/"))->name, "rest");
}

TEST_F(GoldenRouting, HeaderValueFormsAndRepeatedHeaders) {
  config::HTTPMatchRequest m;
  m.headers["x-tenant"] = regex("a,b");  // repeated fields are matched joined with ','
  config::HTTPMatchRequest p;
  p.headers["x-tenant"] = prefix("gold");
  vs("vs", {"a.com"},
     {rule({m}, {dest("other")}, "joined"), rule({p}, {dest("other")}, "prefix"),
      rule({}, {dest("httpbin")}, "rest")});
  Compiled c(r.set);
  EXPECT_EQ(c.route(Request("a.com", "/").header("x-tenant", "a").header("X-Tenant", "b"))->name, "joined");
  EXPECT_EQ(c.route(Request("a.com", "/").header("x-tenant", "a"))->name, "rest");
  EXPECT_EQ(c.route(Request("a.com", "/").header("x-tenant", "golden"))->name, "prefix");
}

TEST_F(GoldenRouting, B16_QueryParamRegexMustMatchTheWholeValue) {
  config::HTTPMatchRequest m;
  m.query_params["id"] = regex("\\d+");
  vs("vs", {"a.com"}, {rule({m}, {dest("other")}), rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/?id=123")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/?id=a1")), kHttpbin);  // B.16
  EXPECT_EQ(c.cluster(Request("a.com", "/?id=1a")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/?x=1&id=7")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/?id=a&id=7")), kHttpbin);  // first occurrence counts
  EXPECT_EQ(c.cluster(Request("a.com", "/")), kHttpbin);
}

TEST_F(GoldenRouting, QueryParamPresenceAndEmpty) {
  config::HTTPMatchRequest present;
  present.query_params["debug"] = presence();
  config::HTTPMatchRequest empty;
  empty.query_params["flag"] = exact("");
  vs("vs", {"a.com"},
     {rule({present}, {dest("other")}, "present"), rule({empty}, {dest("other")}, "empty"),
      rule({}, {dest("httpbin")}, "rest")});
  Compiled c(r.set);
  EXPECT_EQ(c.route(Request("a.com", "/?debug"))->name, "present");
  EXPECT_EQ(c.route(Request("a.com", "/?debug=0"))->name, "present");
  EXPECT_EQ(c.route(Request("a.com", "/?flag"))->name, "empty");
  EXPECT_EQ(c.route(Request("a.com", "/?flag="))->name, "empty");
  EXPECT_EQ(c.route(Request("a.com", "/?flag=1"))->name, "rest");
}

TEST_F(GoldenRouting, B17_IgnoreUriCaseDoesNotAffectRegex) {
  config::HTTPMatchRequest re = uri(regex("/Foo.*"));
  re.ignore_uri_case = true;
  config::HTTPMatchRequest pre = uri(prefix("/Bar"));
  pre.ignore_uri_case = true;
  config::HTTPMatchRequest ex = uri(exact("/Baz"));
  ex.ignore_uri_case = true;
  vs("vs", {"a.com"}, {rule({re, pre, ex}, {dest("other")}), rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/Foo/x")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/foo/x")), kHttpbin);  // B.17
  EXPECT_EQ(c.cluster(Request("a.com", "/bar/x")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/BAZ")), kOther);
}

TEST_F(GoldenRouting, UriMatchIgnoresTheQueryAndRegexIsFullMatch) {
  vs("vs", {"a.com"},
     {rule({uri(exact("/status"))}, {dest("other")}), rule({uri(regex("/v[0-9]"))}, {dest("other")}),
      rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/status?verbose=1")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/v1")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/v1/x")), kHttpbin);  // not a partial match
  EXPECT_EQ(c.cluster(Request("a.com", "/Status")), kHttpbin);
}

TEST_F(GoldenRouting, MethodAuthorityAndSchemeAreHeaderMatchers) {
  config::HTTPMatchRequest post;
  post.method = exact("POST");
  config::HTTPMatchRequest authority;
  authority.authority = exact("a.com:8080");  // the full authority, port included, case-sensitive
  config::HTTPMatchRequest scheme;
  scheme.scheme = exact("https");
  vs("vs", {"a.com"},
     {rule({post}, {dest("other")}, "post"), rule({authority}, {dest("other")}, "authority"),
      rule({scheme}, {dest("other")}, "scheme"), rule({}, {dest("httpbin")}, "rest")});
  Compiled c(r.set);
  Request post_request("a.com", "/");
  post_request.method = "POST";
  EXPECT_EQ(c.route(post_request)->name, "post");
  EXPECT_EQ(c.route(Request("a.com:8080", "/"))->name, "authority");
  EXPECT_EQ(c.route(Request("A.com:8080", "/"))->name, "rest");
  EXPECT_EQ(c.route(Request("a.com", "/"))->name, "rest");
  Request https("a.com", "/");
  https.scheme = "https";
  EXPECT_EQ(c.route(https)->name, "scheme");
}

TEST_F(GoldenRouting, MatchPortIsTheGatewayPortNotTheListenPort) {
  // §3.15: match.port compares with the Gateway port.number (80) even when
  // the process binds 8080.
  config::HTTPMatchRequest on80 = uri(prefix("/a"));
  on80.port = 80;
  config::HTTPMatchRequest on8080 = uri(prefix("/b"));
  on8080.port = 8080;
  vs("vs", {"a.com"},
     {rule({on80}, {dest("other")}), rule({on8080}, {dest("other")}), rule({}, {dest("httpbin")})});
  GatewayIdentity identity;
  identity.port_map = {{80, 8080}};
  Compiled c(r.set, identity);
  ASSERT_NE(c.listener("0.0.0.0_8080"), nullptr);
  EXPECT_EQ(c.listener("0.0.0.0_80"), nullptr);
  EXPECT_EQ(c.cluster(Request("a.com", "/a"), 0, "0.0.0.0_8080"), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/b"), 0, "0.0.0.0_8080"), kHttpbin);
}

TEST_F(GoldenRouting, MatchGatewaysOverrideSourceLabels) {
  config::HTTPMatchRequest here = uri(prefix("/here"));
  here.gateways = {"istio-system/gw"};
  here.source_labels = {{"never", "matches"}};  // ignored when gateways is set
  config::HTTPMatchRequest elsewhere = uri(prefix("/elsewhere"));
  elsewhere.gateways = {"mesh"};
  config::HTTPMatchRequest labels = uri(prefix("/labels"));
  labels.source_labels = {{"istio", "ingressgateway"}};
  config::HTTPMatchRequest wrong_labels = uri(prefix("/wrong-labels"));
  wrong_labels.source_labels = {{"istio", "egressgateway"}};
  config::HTTPMatchRequest ns = uri(prefix("/ns"));
  ns.source_namespace = "istio-system";
  config::HTTPMatchRequest wrong_ns = uri(prefix("/wrong-ns"));
  wrong_ns.source_namespace = "default";
  vs("vs", {"a.com"},
     {rule({here, elsewhere, labels, wrong_labels, ns, wrong_ns}, {dest("other")}),
      rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/here")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/elsewhere")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/labels")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/wrong-labels")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/ns")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/wrong-ns")), kHttpbin);
}

TEST_F(GoldenRouting, SourceLabelsAndNamespaceAreThisGatewaysOwn) {
  // --labels / --namespace: the identity the config-time conditions compare with.
  Resources r2;
  r2.gateway("egress", "egress-gw", {server(80, {"*"})}, {{"istio", "egressgateway"}});
  r2.service("default", "httpbin", {service_port("http", 8000, 80)}, Labels{{"app", "httpbin"}});
  r2.service("default", "other", {service_port("http", 8000, 80)}, Labels{{"app", "other"}});
  config::HTTPMatchRequest egress = uri(prefix("/e"));
  egress.source_labels = {{"istio", "egressgateway"}};
  egress.source_namespace = "egress";
  config::HTTPMatchRequest ingress = uri(prefix("/i"));
  ingress.source_labels = {{"istio", "ingressgateway"}};
  r2.virtual_service(
      "default", "vs", {"a.com"}, {"egress/egress-gw"},
      {rule({egress}, {dest("other")}), rule({ingress}, {dest("other")}), rule({}, {dest("httpbin")})});
  GatewayIdentity identity;
  identity.namespace_ = "egress";
  identity.labels = {{"istio", "egressgateway"}, {"app", "egress"}};
  Compiled c(r2.set, identity);
  EXPECT_EQ(c.cluster(Request("a.com", "/e")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/i")), kHttpbin);
  identity.namespace_ = "elsewhere";  // sourceNamespace no longer fits
  Compiled moved(r2.set, identity);
  EXPECT_EQ(moved.cluster(Request("a.com", "/e")), kHttpbin);
}

TEST_F(GoldenRouting, VirtualServiceAttachedOnlyThroughMatchGateways) {
  // Top-level gateways name another gateway; a match lists ours: the VS
  // attaches, and only blocks that apply here (and rules without match) count.
  config::HTTPMatchRequest mine = uri(prefix("/mine"));
  mine.gateways = {"istio-system/gw"};
  config::HTTPMatchRequest theirs = uri(prefix("/theirs"));
  r.virtual_service("default", "vs", {"a.com"}, {"istio-system/other-gw"},
                    {rule({theirs}, {dest("other")}), rule({mine}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/mine")), kHttpbin);
  // No `gateways` in the block: sourceLabels (empty) apply => kept, as in istiod.
  EXPECT_EQ(c.cluster(Request("a.com", "/theirs")), kOther);
}

TEST_F(GoldenRouting, InvalidRegexDropsOnlyThatRoute) {
  vs("vs", {"a.com"}, {rule({uri(regex("(unclosed"))}, {dest("other")}), rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/(unclosed")), kHttpbin);
  EXPECT_TRUE(c.has_diagnostic("spec.http[0].match[0].uri.regex")) << c.all_diagnostics();
  EXPECT_TRUE(config::has_errors(c.result.diagnostics));
}

TEST_F(GoldenRouting, RedirectRuleWithoutMatchEndsTheVirtualService) {
  config::HTTPRoute redirect = rule({}, {});
  redirect.redirect = config::HTTPRedirect{};
  redirect.redirect->uri = "/new";
  vs("vs", {"a.com"},
     {rule({uri(prefix("/x"))}, {dest("other")}), redirect, rule({uri(prefix("/y"))}, {dest("other")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/x")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/y")), "redirect");  // the rule after a match-less rule is dropped
}

TEST_F(GoldenRouting, RouteNamesCombineRuleAndMatchNames) {
  config::HTTPMatchRequest m = uri(prefix("/a"));
  m.name = "by-prefix";
  vs("vs", {"a.com"}, {rule({m}, {dest("other")}, "api"), rule({}, {dest("httpbin")}, "default")});
  Compiled c(r.set);
  const router::Route* route = c.route(Request("a.com", "/a"));
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->name, "api.by-prefix");
  EXPECT_EQ(route->virtual_service, "default/vs");
  EXPECT_EQ(route->rule_index, 0);
  EXPECT_EQ(route->match_index, 0);
  EXPECT_EQ(c.route(Request("a.com", "/b"))->match_index, -1);
}

}  // namespace
}  // namespace torii::compile
