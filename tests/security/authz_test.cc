// AuthorizationPolicy matching and decisions (security/authz.h): the string
// grammar, IP ranges, not-forms on absent attributes, rule algebra and the
// DENY -> ALLOW order with dry-run and AUDIT.
#include "security/authz.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

namespace torii::security {
namespace {

using Attribute = AuthzPredicate::Attribute;

AuthzPredicate predicate(Attribute a, std::vector<std::string> values, bool negated = false) {
  AuthzPredicate p;
  p.attribute = a;
  p.negated = negated;
  for (const auto& v : values) {
    if (a == Attribute::SourceIp || a == Attribute::RemoteIp) {
      p.ranges.push_back(*IpRange::parse(v));
    } else if (a == Attribute::RequestPrincipal) {
      p.principals.push_back(PrincipalMatcher::of(v));
    } else if (a == Attribute::Path && PathTemplate::is_template(v)) {
      p.templates.push_back(PathTemplate::of(v));
    } else {
      p.values.push_back(ValueMatcher::of(v, a == Attribute::Host));
    }
  }
  return p;
}

AuthzRule rule_of(std::vector<AuthzPredicate> operation) {
  AuthzRule r;
  r.any_operation = false;
  r.operations.push_back(std::move(operation));
  return r;
}

AuthzPolicy policy(AuthzPolicy::Action action, std::vector<AuthzRule> rules, std::string name = "p") {
  AuthzPolicy p;
  p.action = action;
  p.namespace_ = "istio-system";
  p.name = name;
  p.id_prefix = "ns[istio-system]-policy[" + name + "]-rule[";
  p.rules = std::move(rules);
  return p;
}

TEST(AuthzValueMatcherTest, ExactPrefixSuffixPresence) {
  EXPECT_TRUE(ValueMatcher::of("/a").matches("/a"));
  EXPECT_FALSE(ValueMatcher::of("/a").matches("/ab"));
  EXPECT_TRUE(ValueMatcher::of("/a*").matches("/ab"));
  EXPECT_TRUE(ValueMatcher::of("*.example.com").matches("x.example.com"));
  EXPECT_FALSE(ValueMatcher::of("*.example.com").matches("example.com"));
  EXPECT_TRUE(ValueMatcher::of("*").matches("x"));
  EXPECT_FALSE(ValueMatcher::of("*").matches(""));
  EXPECT_TRUE(ValueMatcher::of("/a*b").matches("/a*b"));  // a middle * is literal
  EXPECT_FALSE(ValueMatcher::of("/a*b").matches("/axb"));
  EXPECT_TRUE(ValueMatcher::of("Example.COM", true).matches("example.com"));
  EXPECT_FALSE(ValueMatcher::of("Example.COM").matches("example.com"));
}

TEST(AuthzIpRangeTest, V4AndV6) {
  const IpRange net = *IpRange::parse("10.1.0.0/16");
  EXPECT_TRUE(net.contains(*IpAddress::parse("10.1.200.3")));
  EXPECT_FALSE(net.contains(*IpAddress::parse("10.2.0.1")));
  EXPECT_TRUE(IpRange::parse("192.0.2.7")->contains(*IpAddress::parse("192.0.2.7")));
  EXPECT_FALSE(IpRange::parse("192.0.2.7")->contains(*IpAddress::parse("192.0.2.8")));
  EXPECT_TRUE(IpRange::parse("2001:db8::/32")->contains(*IpAddress::parse("2001:db8:1::5")));
  EXPECT_FALSE(IpRange::parse("2001:db8::/32")->contains(*IpAddress::parse("10.1.0.1")));
  EXPECT_TRUE(IpRange::parse("0.0.0.0/0")->contains(*IpAddress::parse("203.0.113.1")));
  EXPECT_FALSE(IpRange::parse("10.0.0.0/33").has_value());
  EXPECT_FALSE(IpAddress::parse("not-an-ip").has_value());
}

TEST(AuthzPredicateTest, NotFormsMatchAbsentAttributes) {
  http::HeaderMap headers;
  AuthzRequest r;
  r.headers = &headers;
  EXPECT_FALSE(predicate(Attribute::Header, {"*"}).matches(r));
  AuthzPredicate not_on = predicate(Attribute::Header, {"on"}, true);
  not_on.name = "x-debug";
  EXPECT_TRUE(not_on.matches(r));  // absent header: notValues holds
  headers.add("x-debug", "on");
  EXPECT_FALSE(not_on.matches(r));
  // No JWT: requestPrincipals never, notRequestPrincipals always.
  EXPECT_FALSE(predicate(Attribute::RequestPrincipal, {"*"}).matches(r));
  EXPECT_TRUE(predicate(Attribute::RequestPrincipal, {"*"}, true).matches(r));
  // Peer identities never exist at a standalone gateway.
  EXPECT_FALSE(predicate(Attribute::PeerIdentity, {"*"}).matches(r));
  EXPECT_TRUE(predicate(Attribute::PeerIdentity, {"*"}, true).matches(r));
}

TEST(AuthzPredicateTest, ClaimsListNestedAndScopes) {
  Jwt jwt;
  jwt.iss = "https://issuer";
  jwt.sub = "alice";
  jwt.payload = nlohmann::json::parse(
      R"({"groups": ["a", "admins"], "org": {"team": "blue"}, "scope": "read write", "level": 7})");
  AuthzRequest r;
  r.jwt = &jwt;
  auto claim = [](std::vector<std::string> path, std::string value) {
    AuthzPredicate p = predicate(Attribute::Claim, {value});
    p.claim_path = std::move(path);
    return p;
  };
  EXPECT_TRUE(claim({"groups"}, "admins").matches(r));
  EXPECT_FALSE(claim({"groups"}, "users").matches(r));
  EXPECT_TRUE(claim({"org", "team"}, "blue").matches(r));
  EXPECT_TRUE(claim({"scope"}, "write").matches(r));
  EXPECT_FALSE(claim({"level"}, "7").matches(r));  // numbers do not match strings
  EXPECT_TRUE(predicate(Attribute::RequestPrincipal, {"https://issuer/alice"}).matches(r));
  EXPECT_TRUE(predicate(Attribute::RequestPrincipal, {"https://issuer/*"}).matches(r));
  EXPECT_FALSE(predicate(Attribute::RequestPrincipal, {"https://other/*"}).matches(r));
}

// istiod splits a requestPrincipals value at its last '/' into an issuer
// and a subject matcher (authz/model/generator.go).
TEST(AuthzPrincipalTest, IssuerAndSubjectSplitAtTheLastSlash) {
  Jwt jwt;
  jwt.iss = "https://example.com/tenant";
  jwt.sub = "team/alice";
  jwt.payload = nlohmann::json::parse(R"({"iss": "https://example.com/tenant", "sub": "team/alice"})");
  auto m = [&](std::string_view v) { return PrincipalMatcher::of(v).matches(jwt); };
  // The subject is what follows the last '/' of the value: a subject that
  // itself contains '/' is out of reach of the exact forms.
  EXPECT_FALSE(m("https://example.com/tenant/team/alice"));  // iss ".../tenant/team", sub "alice"
  EXPECT_FALSE(m("*/alice"));                                // any issuer, sub "alice"
  EXPECT_TRUE(m("*"));
  EXPECT_TRUE(m("*alice"));                        // no '/': a subject suffix
  EXPECT_TRUE(m("https://example.com/tenant/*"));  // issuer exact, any subject
  EXPECT_FALSE(m("*.com/tenant/*"));               // '*' at both ends: an issuer suffix and a literal sub "*"
  EXPECT_FALSE(m("https://example*"));             // issuer exact "https:/", subject prefix "example"
  Jwt simple;
  simple.iss = "issuer";
  simple.sub = "bob";
  simple.payload = nlohmann::json::parse(R"({"iss": "issuer", "sub": "bob"})");
  auto s = [&](std::string_view v) { return PrincipalMatcher::of(v).matches(simple); };
  EXPECT_TRUE(s("issuer/bob"));
  EXPECT_TRUE(s("issuer/*"));
  EXPECT_TRUE(s("issuer/b*"));
  EXPECT_FALSE(s("issuer/c*"));
  EXPECT_TRUE(s("*suer/bob"));
  EXPECT_TRUE(s("iss*"));     // no '/': issuer prefix, any subject
  EXPECT_FALSE(s("issuer"));  // no '/': issuer exact and an empty subject
  // A token without `sub` has no principal: even `*` does not match it.
  Jwt no_sub;
  no_sub.iss = "issuer";
  no_sub.payload = nlohmann::json::parse(R"({"iss": "issuer"})");
  EXPECT_FALSE(PrincipalMatcher::of("*").matches(no_sub));
  EXPECT_FALSE(PrincipalMatcher::of("issuer/*").matches(no_sub));
  EXPECT_FALSE(PrincipalMatcher::of("issuer").matches(no_sub));
  no_sub.payload["sub"] = "";  // an empty `sub` is a value, as Envoy's metadata matcher sees it
  EXPECT_TRUE(PrincipalMatcher::of("issuer").matches(no_sub));
  EXPECT_FALSE(PrincipalMatcher::of("issuer/*").matches(no_sub));
}

// Envoy's uri_template matcher as Istio builds it from {*} and {**}.
TEST(AuthzPathTemplateTest, OneSegmentAndAnySegments) {
  auto m = [](std::string_view pattern, std::string_view path) {
    return PathTemplate::of(pattern).matches(path);
  };
  EXPECT_TRUE(m("/api/{*}/info", "/api/v1/info"));
  EXPECT_FALSE(m("/api/{*}/info", "/api/v1/v2/info"));
  EXPECT_FALSE(m("/api/{*}/info", "/api//info"));  // {*}: at least one character
  EXPECT_FALSE(m("/api/{*}/info", "/api/v1/info/x"));
  EXPECT_TRUE(m("/api/{*}", "/api/v1"));
  EXPECT_FALSE(m("/api/{*}", "/api/v1/"));
  EXPECT_FALSE(m("/api/{*}", "/api/a=b"));  // '=' and '*' are not path characters there
  EXPECT_TRUE(m("/api/{**}", "/api/"));
  EXPECT_TRUE(m("/api/{**}", "/api/a/b/c"));
  EXPECT_FALSE(m("/api/{**}", "/api"));
  EXPECT_FALSE(m("/api/{**}", "/apix/a"));
  EXPECT_TRUE(m("/{**}/manifest", "/content/123/manifest"));
  EXPECT_FALSE(m("/{**}/manifest", "/manifest"));
  EXPECT_TRUE(m("/{**}/manifest", "//manifest"));
  EXPECT_FALSE(m("/{**}/manifest", "/content/manifest.mpd"));
  EXPECT_TRUE(m("/{*}/{**}/end", "/a/b/c/end"));
  EXPECT_FALSE(m("/{*}/{**}/end", "/a/end/x"));
  EXPECT_TRUE(m("/a/{*}/", "/a/b/"));
  EXPECT_FALSE(m("/a/{*}/", "/a/b"));
  // In a path predicate, templates and plain values are alternatives.
  AuthzRequest r;
  r.path = "/files/x/raw";
  EXPECT_TRUE(predicate(Attribute::Path, {"/nope", "/files/{*}/raw"}).matches(r));
  EXPECT_FALSE(predicate(Attribute::Path, {"/files/{*}/raw"}, true).matches(r));
}

TEST(AuthzPredicateTest, DestinationIpIsReadOnlyWhenAPolicyAsks) {
  AuthzPredicate dst;
  dst.attribute = Attribute::DestinationIp;
  dst.ranges.push_back(*IpRange::parse("10.0.0.0/8"));
  AuthzRequest r;
  EXPECT_FALSE(dst.matches(r));  // not filled: absent
  sockaddr_storage local{};
  auto& v4 = reinterpret_cast<sockaddr_in&>(local);
  v4.sin_family = AF_INET;
  v4.sin_addr.s_addr = htonl(0x0a010203);  // 10.1.2.3
  r.destination_ip = IpAddress::of(local);
  EXPECT_TRUE(dst.matches(r));
  AuthzRule rule;
  rule.conditions.push_back(dst);
  EXPECT_TRUE(AuthzEngine({policy(AuthzPolicy::Action::Deny, {rule})}).needs_destination_ip());
  EXPECT_FALSE(AuthzEngine({policy(AuthzPolicy::Action::Deny, {AuthzRule{}})}).needs_destination_ip());
}

TEST(AuthzEngineTest, DenyFirstThenAllowElseDefaultDeny) {
  AuthzRequest get_public;
  get_public.method = "GET";
  get_public.path = "/public/x";
  AuthzRequest post_public = get_public;
  post_public.method = "POST";
  AuthzRequest get_private = get_public;
  get_private.path = "/private";

  const AuthzEngine engine(
      {policy(AuthzPolicy::Action::Allow, {rule_of({predicate(Attribute::Path, {"/public/*"})})}, "allow"),
       policy(AuthzPolicy::Action::Deny, {rule_of({predicate(Attribute::Method, {"POST"})})}, "deny")});
  EXPECT_TRUE(engine.evaluate(get_public).allowed);
  const AuthzDecision denied = engine.evaluate(post_public);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(rbac_denied_details(denied),
            "rbac_access_denied_matched_policy[ns[istio-system]-policy[deny]-rule[0]]");
  const AuthzDecision none = engine.evaluate(get_private);
  EXPECT_FALSE(none.allowed);
  EXPECT_EQ(rbac_denied_details(none), "rbac_access_denied_matched_policy[none]");
}

TEST(AuthzEngineTest, AuditAndDryRunNeverDecide) {
  AuthzRequest r;
  r.path = "/x";
  AuthzPolicy shadow = policy(AuthzPolicy::Action::Deny, {AuthzRule{}}, "shadow");
  shadow.dry_run = true;
  AuthzPolicy dry_allow = policy(AuthzPolicy::Action::Allow, {}, "dry-allow");
  dry_allow.dry_run = true;
  const AuthzEngine engine({shadow, dry_allow, policy(AuthzPolicy::Action::Audit, {AuthzRule{}}, "audit")});
  const AuthzDecision d = engine.evaluate(r);
  EXPECT_TRUE(d.allowed);  // a dry-run ALLOW does not make the gateway default-deny
  EXPECT_TRUE(d.shadow_denied);
  EXPECT_FALSE(engine.has_allow());
}

TEST(AuthzEngineTest, AllowWithoutRulesAllowsNothingAndEmptyRuleAll) {
  AuthzRequest r;
  EXPECT_FALSE(AuthzEngine({policy(AuthzPolicy::Action::Allow, {})}).evaluate(r).allowed);
  EXPECT_TRUE(AuthzEngine({policy(AuthzPolicy::Action::Allow, {AuthzRule{}})}).evaluate(r).allowed);
}

TEST(AuthzEngineTest, TcpDropsAllowRulesAndDenyFieldsThatNeedHttp) {
  AuthzRule http_and_port = rule_of({predicate(Attribute::Method, {"GET"})});
  AuthzPredicate port;
  port.attribute = Attribute::Port;
  port.ports = {9000};
  http_and_port.operations[0].push_back(port);
  const std::vector<AuthzPolicy> tcp = for_tcp({policy(AuthzPolicy::Action::Allow, {http_and_port}, "allow"),
                                                policy(AuthzPolicy::Action::Deny, {http_and_port}, "deny")});
  ASSERT_EQ(tcp.size(), 2u);
  EXPECT_TRUE(tcp[0].rules.empty());   // ALLOW: the rule is dropped, the policy allows nothing
  ASSERT_EQ(tcp[1].rules.size(), 1u);  // DENY: only the method is dropped
  ASSERT_EQ(tcp[1].rules[0].operations[0].size(), 1u);
  EXPECT_EQ(tcp[1].rules[0].operations[0][0].attribute, Attribute::Port);
  AuthzRequest r;
  r.port = 9000;
  EXPECT_FALSE(AuthzEngine(tcp).evaluate(r).allowed);
}

}  // namespace
}  // namespace torii::security
