// Delegation (ISTIO_SEMANTICS §3.12; istiod mergeHTTPRoute / hasConflict):
// root rule + delegate VS in, routes out.
#include <gtest/gtest.h>

#include "compile/delegation.h"
#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

const std::string kTeam = "outbound|80||reviews.team.svc.cluster.local";

class GoldenDelegation : public ::testing::Test {
 protected:
  GoldenDelegation() {
    r.gateway("istio-system", "gw", {server(80, {"*"})});
    r.service("default", "httpbin", {service_port("http", 8000, 80)}, Labels{{"app", "httpbin"}});
    r.pod("default", "httpbin-1", "10.0.0.1", {{"app", "httpbin"}});
    r.service("default", "other", {service_port("http", 8000, 80)}, Labels{{"app", "other"}});
    r.pod("default", "other-1", "10.0.0.2", {{"app", "other"}});
    r.service("team", "reviews", {service_port("http", 80)}, Labels{{"app", "reviews"}});
    r.pod("team", "reviews-1", "10.0.0.3", {{"app", "reviews"}});
  }

  config::HTTPRoute delegate_rule(std::vector<config::HTTPMatchRequest> match, std::string name,
                                  std::string ns = "", std::string rule_name = "") {
    config::HTTPRoute rule = testing::rule(std::move(match), {}, std::move(rule_name));
    rule.delegate = config::Delegate{std::move(name), std::move(ns)};
    return rule;
  }

  config::VirtualService& root(std::vector<config::HTTPRoute> http) {
    return r.virtual_service("default", "root", {"a.com"}, {"istio-system/gw"}, std::move(http));
  }
  config::VirtualService& delegate(const std::string& ns, const std::string& name,
                                   std::vector<config::HTTPRoute> http) {
    return r.virtual_service(ns, name, {}, {}, std::move(http));
  }

  Resources r;
};

TEST_F(GoldenDelegation, DelegateRulesReplaceTheRootRuleWithMergedMatches) {
  root({delegate_rule({uri(prefix("/reviews"))}, "reviews", "team", "root"), rule({}, {dest("httpbin")})});
  // Short names in the delegate resolve in the delegate's namespace.
  delegate("team", "reviews",
           {rule({uri(prefix("/reviews/v2"))}, {dest("reviews")}, "v2"),
            rule({}, {dest("other.default.svc.cluster.local")}, "rest")});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/reviews/v2/x")), kTeam);
  EXPECT_EQ(c.cluster(Request("a.com", "/reviews/x")), kOther);  // delegate catch-all, under /reviews
  EXPECT_EQ(c.cluster(Request("a.com", "/x")), kHttpbin);
  const router::Route* route = c.route(Request("a.com", "/reviews/v2"));
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->name, "root-v2");
  EXPECT_EQ(route->virtual_service, "default/root");
  EXPECT_EQ(route->rule_index, 0);
  EXPECT_EQ(route->delegate, "team/reviews");
  EXPECT_EQ(route->delegate_rule_index, 0);
  EXPECT_EQ(c.route(Request("a.com", "/reviews/x"))->delegate_rule_index, 1);
}

TEST_F(GoldenDelegation, ConflictingDelegateRuleIsDropped) {
  root({delegate_rule({uri(prefix("/api"))}, "d"), rule({}, {dest("httpbin")})});
  delegate("default", "d",
           {rule({uri(prefix("/other"))}, {dest("other")}),  // not under /api: conflict
            rule({uri(exact("/api/x"))}, {dest("other")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/other")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("a.com", "/api/x")), kOther);
  EXPECT_TRUE(c.has_diagnostic("conflicts with every match of the root rule")) << c.all_diagnostics();
}

TEST_F(GoldenDelegation, MissingOrUnexportedDelegateDropsOnlyThatRootRule) {
  root({delegate_rule({uri(prefix("/missing"))}, "nope"),
        delegate_rule({uri(prefix("/hidden"))}, "d", "team"),
        rule({uri(prefix("/missing"))}, {dest("other")}), rule({}, {dest("httpbin")})});
  delegate("team", "d", {rule({}, {dest("other")})}).export_to = {"."};
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/missing")), kOther);  // the next rule, not a 404
  EXPECT_EQ(c.cluster(Request("a.com", "/hidden")), kHttpbin);
  EXPECT_TRUE(c.has_diagnostic("default/nope not found")) << c.all_diagnostics();
  EXPECT_TRUE(c.has_diagnostic("not exported to namespace default")) << c.all_diagnostics();
}

TEST_F(GoldenDelegation, ExportedByNameIsVisible) {
  root({delegate_rule({}, "d", "team")});
  delegate("team", "d", {rule({}, {dest("other.default.svc.cluster.local", 8000)})}).export_to = {"default"};
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), kOther);
}

TEST_F(GoldenDelegation, RootFieldsAreInheritedUnlessTheDelegateSetsThem) {
  config::HTTPRoute root_rule = delegate_rule({uri(prefix("/p"))}, "d");
  root_rule.rewrite = config::HTTPRewrite{"/root", "", std::nullopt};
  config::Headers h;
  h.request.set = {{"x-root", "1"}};
  root_rule.headers = h;
  root({root_rule});
  config::HTTPRoute own = rule({uri(prefix("/p/own"))}, {dest("other")});
  own.rewrite = config::HTTPRewrite{"/own", "", std::nullopt};
  delegate("default", "d", {own, rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  const router::Route* inherited = c.route(Request("a.com", "/p/x"));
  ASSERT_NE(inherited, nullptr);
  EXPECT_EQ(inherited->action.path_rewrite.replacement, "/root");
  ASSERT_EQ(inherited->action.headers.request.ops.size(), 1u);
  EXPECT_EQ(inherited->action.headers.request.ops[0].name, "x-root");
  const router::Route* overridden = c.route(Request("a.com", "/p/own"));
  ASSERT_NE(overridden, nullptr);
  EXPECT_EQ(overridden->action.path_rewrite.replacement, "/own");
}

TEST_F(GoldenDelegation, RootDirectResponseIsInherited) {
  // istiod mergeHTTPRoute copies directResponse like the other root fields, and it
  // then wins over the delegate rule's route (translateRoute: redirect, directResponse, route).
  config::HTTPRoute root_rule = delegate_rule({uri(prefix("/p"))}, "d");
  root_rule.direct_response = config::HTTPDirectResponse{418, std::string("root says no")};
  root({root_rule});
  config::HTTPRoute own = rule({uri(prefix("/p/own"))}, {});
  own.route.clear();
  own.direct_response = config::HTTPDirectResponse{200, std::string("own")};
  delegate("default", "d", {own, rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  const router::Route* inherited = c.route(Request("a.com", "/p/x"));
  ASSERT_NE(inherited, nullptr);
  ASSERT_NE(inherited->direct_response, nullptr);
  EXPECT_EQ(inherited->direct_response->status, 418);
  EXPECT_EQ(inherited->direct_response->body, "root says no");
  const router::Route* overridden = c.route(Request("a.com", "/p/own"));
  ASSERT_NE(overridden, nullptr);
  ASSERT_NE(overridden->direct_response, nullptr);
  EXPECT_EQ(overridden->direct_response->status, 200);
}

TEST_F(GoldenDelegation, RootPoliciesReachTheDelegateRoutes) {
  config::HTTPRoute root_rule = delegate_rule({uri(prefix("/p"))}, "d");
  config::HTTPFaultInjection fault;
  fault.abort = config::HTTPFaultInjection::Abort{};
  fault.abort->http_status = 503;
  fault.abort->percentage = config::Percent{100};
  root_rule.policies.fault = fault;
  root_rule.policies.mirror = config::Destination{"other", "", {}};
  config::CorsPolicy cors;
  cors.allow_origins = {exact("https://a.com")};
  root_rule.policies.cors_policy = cors;
  root({root_rule});
  config::HTTPRoute own = rule({uri(prefix("/p/own"))}, {dest("other")});
  config::HTTPFaultInjection own_fault;
  own_fault.abort = config::HTTPFaultInjection::Abort{};
  own_fault.abort->http_status = 429;
  own_fault.abort->percentage = config::Percent{100};
  own.policies.fault = own_fault;
  delegate("default", "d", {own, rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  const router::Route* inherited = c.route(Request("a.com", "/p/x"));
  ASSERT_NE(inherited, nullptr);
  ASSERT_TRUE(inherited->action.policies.fault);
  EXPECT_EQ(inherited->action.policies.fault->http_status, 503);
  ASSERT_TRUE(inherited->action.policies.cors);
  ASSERT_EQ(inherited->action.policies.mirrors.size(), 1u);
  EXPECT_EQ(inherited->action.policies.mirrors[0].cluster_name, kOther);
  const router::Route* overridden = c.route(Request("a.com", "/p/own"));
  ASSERT_NE(overridden, nullptr);
  ASSERT_TRUE(overridden->action.policies.fault);
  EXPECT_EQ(overridden->action.policies.fault->http_status, 429);
}

TEST_F(GoldenDelegation, MatchMapsAreMergedAndEveryCompatibleRootBlockYieldsARoute) {
  config::HTTPMatchRequest gold = uri(prefix("/api"));
  gold.headers["x-tier"] = exact("gold");
  config::HTTPMatchRequest beta = uri(prefix("/beta"));
  root({delegate_rule({gold, beta}, "d")});
  config::HTTPMatchRequest post;
  post.method = exact("POST");
  delegate("default", "d", {rule({post}, {dest("other")})});
  Compiled c(r.set);
  Request gold_post("a.com", "/api/x");
  gold_post.method = "POST";
  gold_post.header("x-tier", "gold");
  EXPECT_EQ(c.cluster(gold_post), kOther);
  Request plain_post("a.com", "/api/x");
  plain_post.method = "POST";
  EXPECT_EQ(c.cluster(plain_post), "404");  // the root's header condition stays
  Request beta_post("a.com", "/beta");
  beta_post.method = "POST";
  EXPECT_EQ(c.cluster(beta_post), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/beta")), "404");
}

// istiod hasConflict, case by case.
TEST(DelegationConflicts, StringMatchRules) {
  auto m = [](std::optional<config::StringMatch> u) {
    config::HTTPMatchRequest out;
    out.uri = std::move(u);
    return out;
  };
  EXPECT_FALSE(match_conflicts(m(prefix("/a")), m(prefix("/a/b"))));
  EXPECT_TRUE(match_conflicts(m(prefix("/a/b")), m(prefix("/a"))));
  EXPECT_FALSE(match_conflicts(m(prefix("/a")), m(exact("/a/x"))));
  EXPECT_TRUE(match_conflicts(m(exact("/a")), m(prefix("/a"))));
  EXPECT_FALSE(match_conflicts(m(exact("/a")), m(exact("/a"))));
  EXPECT_TRUE(match_conflicts(m(exact("/a")), m(exact("/b"))));
  EXPECT_TRUE(match_conflicts(m(regex("/a.*")), m(prefix("/a"))));
  EXPECT_TRUE(match_conflicts(m(prefix("/a")), m(regex("/a.*"))));
  EXPECT_TRUE(match_conflicts(m(prefix("/a")), m(presence())));
  EXPECT_FALSE(match_conflicts(m(std::nullopt), m(regex("/a.*"))));  // unset on one side: no conflict
  EXPECT_FALSE(match_conflicts(m(prefix("/a")), m(std::nullopt)));

  config::HTTPMatchRequest root = m(prefix("/a"));
  config::HTTPMatchRequest leaf = m(prefix("/a"));
  leaf.ignore_uri_case = true;
  EXPECT_TRUE(match_conflicts(root, leaf));
  leaf = m(prefix("/a"));
  root.port = 80;
  leaf.port = 8080;
  EXPECT_TRUE(match_conflicts(root, leaf));
  leaf.port = 0;
  EXPECT_FALSE(match_conflicts(root, leaf));
  root.source_namespace = "ns1";
  EXPECT_TRUE(match_conflicts(root, leaf));
  leaf.source_namespace = "ns1";
  EXPECT_FALSE(match_conflicts(root, leaf));
  root.source_labels = {{"app", "x"}};
  leaf.source_labels = {{"app", "y"}};
  EXPECT_TRUE(match_conflicts(root, leaf));
  leaf.source_labels = {{"version", "v1"}};
  EXPECT_FALSE(match_conflicts(root, leaf));
  root.gateways = {"istio-system/gw"};
  leaf.gateways = {"istio-system/other"};
  EXPECT_TRUE(match_conflicts(root, leaf));
  leaf.gateways = {"istio-system/gw"};
  EXPECT_FALSE(match_conflicts(root, leaf));
  root.headers["x"] = exact("1");
  leaf.headers["x"] = exact("2");
  EXPECT_TRUE(match_conflicts(root, leaf));
  leaf.headers["x"] = exact("1");
  leaf.headers["y"] = regex("z.*");  // not on the root: no conflict
  EXPECT_FALSE(match_conflicts(root, leaf));
}

}  // namespace
}  // namespace torii::compile
