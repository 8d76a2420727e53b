// VirtualService validation rules, one test each (field path + message).
#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::no_errors;
using testing::rejected;

LoadResult vs(std::string_view spec) { return testing::load_istio("VirtualService", spec, "vs"); }

// A gateway-bound VS on a.example.com with the given http rules.
LoadResult http(std::string_view rules) {
  return vs("hosts: [a.example.com]\ngateways: [istio-system/gw]\nhttp:\n" + std::string(rules));
}

// One rule: `route` to host a plus the given extra lines.
LoadResult rule(std::string_view extra) {
  return http("- route: [{destination: {host: a}}]\n" + testing::indent(extra, 2));
}

LoadResult match(std::string_view m) { return rule("match: [" + std::string(m) + "]\n"); }

TEST(ValidateVirtualServiceTest, ValidVirtualService) {
  const LoadResult r = http(R"(- match: [{uri: {prefix: /a}, headers: {x-user: {exact: bob}}}]
  route:
  - {destination: {host: a, subset: v1}, weight: 30}
  - {destination: {host: b.ns.svc.cluster.local, port: {number: 80}}, weight: 70}
  timeout: 5s
  retries: {attempts: 2, perTryTimeout: 1s, retryOn: "5xx,connect-failure,503"}
- route: [{destination: {host: a}}]
)");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(r.diagnostics.empty()) << testing::dump(r.diagnostics);
}

TEST(ValidateVirtualServiceTest, HostsMustBeDomainsOrIps) {
  for (const char* host :
       {"\"*\"", "reviews", "\"*.example.com\"", "10.0.0.1", "\"2001:db8::1\"", "a.b.c."}) {
    EXPECT_TRUE(no_errors(vs(std::string("hosts: [") + host + "]\ngateways: [gw]\n" +
                             "http: [{route: [{destination: {host: a}}]}]\n")))
        << host;
  }
  const LoadResult r =
      vs("hosts: [\"a_b.com\"]\ngateways: [gw]\nhttp: [{route: [{destination: {host: a}}]}]\n");
  EXPECT_TRUE(rejected(r));
  EXPECT_TRUE(has_error(r, "spec.hosts[0]", "domain name \"a_b.com\" invalid (label \"a_b\" invalid)"));
}

TEST(ValidateVirtualServiceTest, WildcardHostNotForMesh) {
  EXPECT_TRUE(has_error(vs("hosts: [\"*\"]\nhttp: [{route: [{destination: {host: a}}]}]\n"), "spec.hosts[0]",
                        "wildcard host * is not allowed for virtual services bound to the mesh gateway"));
  EXPECT_TRUE(
      has_error(vs("hosts: [\"*\"]\ngateways: [mesh, gw]\nhttp: [{route: [{destination: {host: a}}]}]\n"),
                "spec.hosts[0]", "wildcard host *"));
}

TEST(ValidateVirtualServiceTest, DuplicateOrOverlappingHosts) {
  EXPECT_TRUE(has_error(vs("hosts: [a.example.com, a.example.com]\ngateways: [gw]\nhttp: [{route: "
                           "[{destination: {host: a}}]}]\n"),
                        "spec.hosts[1]",
                        "duplicate hosts in virtual service: a.example.com & a.example.com"));
  EXPECT_TRUE(has_error(
      vs("hosts: [\"*.foo.com\", \"*.com\"]\ngateways: [gw]\nhttp: [{route: [{destination: {host: a}}]}]\n"),
      "spec.hosts[1]", "duplicate hosts in virtual service: *.foo.com & *.com"));
  EXPECT_TRUE(has_error(
      vs("hosts: [\"*\", a.example.com]\ngateways: [gw]\nhttp: [{route: [{destination: {host: a}}]}]\n"),
      "spec.hosts[1]", "duplicate hosts in virtual service: * & a.example.com"));
  // *.foo.com does not cover foo.com.
  EXPECT_TRUE(no_errors(
      vs("hosts: [\"*.foo.com\", foo.com]\ngateways: [gw]\nhttp: [{route: [{destination: {host: a}}]}]\n")));
}

TEST(ValidateVirtualServiceTest, GatewayNames) {
  EXPECT_TRUE(
      no_errors(vs("hosts: [a.example.com]\ngateways: [gw, ns/gw, mesh]\nhttp: [{route: [{destination: "
                   "{host: a}}]}]\n")));
  // istiod's validateGatewayNames refuses "./name" (its resolver would read it; kubectl never gets there).
  EXPECT_TRUE(
      has_error(vs("hosts: [a.example.com]\ngateways: [./gw]\nhttp: [{route: [{destination: {host: a}}]}]\n"),
                "spec.gateways[0]", "invalid value for namespace: \".\""));
  EXPECT_TRUE(has_error(
      vs("hosts: [a.example.com]\ngateways: [Bad_NS/gw]\nhttp: [{route: [{destination: {host: a}}]}]\n"),
      "spec.gateways[0]", "invalid value for namespace: \"Bad_NS\""));
  EXPECT_TRUE(has_error(
      vs("hosts: [a.example.com]\ngateways: [ns/gw.x]\nhttp: [{route: [{destination: {host: a}}]}]\n"),
      "spec.gateways[0]", "invalid value for gateway name: \"gw.x\""));
  EXPECT_TRUE(
      has_error(vs("hosts: [a.example.com]\ngateways: [ns/]\nhttp: [{route: [{destination: {host: a}}]}]\n"),
                "spec.gateways[0]", "config namespace and gateway name cannot be empty"));
}

TEST(ValidateVirtualServiceTest, LegacyFqdnGatewayWarns) {
  const LoadResult r =
      vs("hosts: [a.example.com]\ngateways: [gw.istio-system.svc.cluster.local]\n"
         "http: [{route: [{destination: {host: a}}]}]\n");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.gateways[0]",
                          "using legacy gatewayName format \"gw.istio-system.svc.cluster.local\"; prefer the "
                          "<namespace>/<name> format: \"istio-system/gw\""));
}

TEST(ValidateVirtualServiceTest, NeedsHttpTcpOrTls) {
  EXPECT_TRUE(has_error(vs("hosts: [a.example.com]\ngateways: [gw]\n"), "spec",
                        "http, tcp or tls must be provided in virtual service"));
}

TEST(ValidateVirtualServiceTest, DelegateVirtualServiceRules) {
  EXPECT_TRUE(no_errors(vs("http: [{route: [{destination: {host: a}}]}]\n")));
  EXPECT_TRUE(has_error(vs("gateways: [gw]\nhttp: [{route: [{destination: {host: a}}]}]\n"), "spec.gateways",
                        "delegate virtual service must have no gateways specified"));
  EXPECT_TRUE(has_error(vs("tcp: [{route: [{destination: {host: a}}]}]\n"), "spec.tcp",
                        "delegate virtual service must have no tcp route specified"));
  EXPECT_TRUE(has_error(vs("tls: [{match: [{sniHosts: [a.com]}], route: [{destination: {host: a}}]}]\n"),
                        "spec.tls", "delegate virtual service must have no tls route specified"));
  EXPECT_TRUE(has_error(vs("http: [{delegate: {name: other}}]\n"), "spec.http[0].delegate",
                        "delegate HTTP route cannot contain delegate"));
}

TEST(ValidateVirtualServiceTest, ExactlyOneAction) {
  EXPECT_TRUE(has_error(http("- match: [{uri: {prefix: /a}}]\n"), "spec.http[0]",
                        "HTTP route, redirect or direct_response is required"));
  EXPECT_TRUE(has_error(rule("redirect: {uri: /b}\n"), "spec.http[0]",
                        "HTTP route cannot contain both route and redirect"));
  EXPECT_TRUE(has_error(rule("directResponse: {status: 200}\n"), "spec.http[0]",
                        "HTTP route cannot contain both route and direct_response"));
  EXPECT_TRUE(has_error(http("- redirect: {uri: /b}\n  directResponse: {status: 200}\n"), "spec.http[0]",
                        "HTTP route cannot contain both redirect and direct_response"));
  EXPECT_TRUE(has_error(rule("delegate: {name: child}\n"), "spec.http[0].route",
                        "root HTTP route must not specify route"));
  EXPECT_TRUE(has_error(http("- delegate: {name: child}\n  redirect: {uri: /x}\n"), "spec.http[0].redirect",
                        "must not specify redirect"));
  // istiod allows it: the delegate's rules inherit it (compile/delegation.cc); Torii says what that means.
  const LoadResult root_direct = http("- delegate: {name: child}\n  directResponse: {status: 200}\n");
  EXPECT_TRUE(no_errors(root_direct));
  EXPECT_TRUE(has_warning(root_direct, "spec.http[0].directResponse", "the delegate's rules inherit"));
  // mirror with mirrors is checked with the actions, which istiod skips for a delegating rule.
  EXPECT_TRUE(
      no_errors(http("- delegate: {name: child}\n  mirror: {host: m}\n  mirrors: [{destination: "
                     "{host: n}}]\n")));
  EXPECT_TRUE(no_errors(http("- delegate: {name: child, namespace: team}\n")));
}

TEST(ValidateVirtualServiceTest, NoRewriteOrFaultWithRedirectOrDirectResponse) {
  EXPECT_TRUE(has_error(http("- redirect: {uri: /b}\n  rewrite: {uri: /c}\n"), "spec.http[0]",
                        "HTTP route rule cannot contain both rewrite and redirect"));
  EXPECT_TRUE(has_error(http("- redirect: {uri: /b}\n  fault: {abort: {httpStatus: 500}}\n"), "spec.http[0]",
                        "HTTP route cannot contain both fault and redirect"));
  EXPECT_TRUE(has_error(http("- directResponse: {status: 200}\n  rewrite: {uri: /c}\n"), "spec.http[0]",
                        "HTTP route rule cannot contain both rewrite and direct_response"));
  EXPECT_TRUE(has_error(http("- directResponse: {status: 200}\n  fault: {delay: {fixedDelay: 1s}}\n"),
                        "spec.http[0]", "HTTP route cannot contain both fault and direct_response"));
}

TEST(ValidateVirtualServiceTest, PrefixMatchMustNotBeEmptyExceptUri) {
  EXPECT_TRUE(no_errors(match("{uri: {prefix: \"\"}}")));
  EXPECT_TRUE(has_error(match("{headers: {x-a: {prefix: \"\"}}}"),
                        "spec.http[0].match[0].headers[x-a].prefix",
                        "prefix string match should not be empty"));
  EXPECT_TRUE(has_error(match("{authority: {prefix: \"\"}}"), "spec.http[0].match[0].authority.prefix",
                        "prefix string match should not be empty"));
  EXPECT_TRUE(has_error(match("{queryParams: {q: {prefix: \"\"}}}"),
                        "spec.http[0].match[0].queryParams[q].prefix",
                        "prefix string match should not be empty"));
}

TEST(ValidateVirtualServiceTest, RegexMustBeNonEmptyValidAndShort) {
  EXPECT_TRUE(has_error(match("{uri: {regex: \"\"}}"), "spec.http[0].match[0].uri.regex",
                        "regex string match should not be empty"));
  EXPECT_TRUE(has_error(match("{uri: {regex: \"/a(\"}}"), "spec.http[0].match[0].uri.regex",
                        "Istio uses RE2 style regex-based match"));
  EXPECT_TRUE(
      has_error(match("{method: {regex: \"(?<name>x)\"}}"), "spec.http[0].match[0].method.regex", "RE2"));
  EXPECT_TRUE(has_error(match("{uri: {regex: \"" + std::string(1025, 'a') + "\"}}"),
                        "spec.http[0].match[0].uri.regex", "regex is too large, max length allowed is 1024"));
  EXPECT_TRUE(no_errors(match("{uri: {regex: \"" + std::string(1024, 'a') + "\"}}")));
}

TEST(ValidateVirtualServiceTest, HeaderNames) {
  EXPECT_TRUE(has_error(match("{headers: {\"x user\": {exact: a}}}"), "spec.http[0].match[0].headers[x user]",
                        "header name x user is not a valid header name"));
  EXPECT_TRUE(has_error(match("{withoutHeaders: {\"x:y\": {}}}"), "spec.http[0].match[0].withoutHeaders[x:y]",
                        "is not a valid header name"));
  EXPECT_TRUE(has_error(match("{headers: {\"x@y\": {}}}"), "spec.http[0].match[0].headers[x@y]",
                        "is not a valid header name"));
  EXPECT_TRUE(no_errors(match("{headers: {X-Mixed_Case-1: {exact: a}}}")));
  // Any RFC 9110 token, as istiod's validHeaderNameRegex.
  const LoadResult tokens = match(R"({headers: {"x_weird!#$": {exact: a}, "a%&'*+-.^_`|~z": {}}, )"
                                  R"(withoutHeaders: {"x.y": {exact: b}}})");
  EXPECT_TRUE(no_errors(tokens));
  EXPECT_TRUE(tokens.diagnostics.empty()) << testing::dump(tokens.diagnostics);
}

TEST(ValidateVirtualServiceTest, PseudoHeaderNames) {
  const LoadResult r = match(R"({headers: {":method": {exact: GET}, ":authority": {prefix: a}, )"
                             R"(":path": {regex: "/a.*"}, ":scheme": {exact: http}}, )"
                             R"(withoutHeaders: {":path": {prefix: /admin}}})");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(r.diagnostics.empty()) << testing::dump(r.diagnostics);
  // istiod accepts :status too; no request has it, which Torii says.
  const LoadResult status = match("{headers: {\":status\": {exact: \"200\"}}}");
  EXPECT_TRUE(no_errors(status));
  EXPECT_TRUE(has_warning(status, "spec.http[0].match[0].headers[:status]", "response pseudo-header"));
  // Other ':' names and other spellings are not pseudo-headers.
  EXPECT_TRUE(has_error(match("{headers: {\":foo\": {}}}"), "spec.http[0].match[0].headers[:foo]",
                        "header name :foo is not a valid header name"));
  EXPECT_TRUE(has_error(match("{headers: {\":Method\": {}}}"), "spec.http[0].match[0].headers[:Method]",
                        "is not a valid header name"));
}

TEST(ValidateVirtualServiceTest, NullHeaderMatch) {
  // istiod: "header match x cannot be null"; in withoutHeaders null is presence.
  EXPECT_TRUE(has_error(match("{headers: {x-user: null}}"), "spec.http[0].match[0].headers[x-user]",
                        "header match x-user cannot be null"));
  EXPECT_TRUE(no_errors(match("{withoutHeaders: {x-user: null}}")));
}

TEST(ValidateVirtualServiceTest, RegexStarIsPresenceOnlyInWithoutHeaders) {
  EXPECT_TRUE(no_errors(match("{withoutHeaders: {x-user: {regex: \"*\"}}}")));
  EXPECT_TRUE(has_error(match("{headers: {x-user: {regex: \"*\"}}}"),
                        "spec.http[0].match[0].headers[x-user].regex", "RE2"));
  EXPECT_TRUE(has_error(match("{uri: {regex: \"*\"}}"), "spec.http[0].match[0].uri.regex", "RE2"));
}

TEST(ValidateVirtualServiceTest, JwtClaimKeys) {
  // istio pkg/jwt ToRoutingClaim: any case, ".a[.b]" or "[a][b]".
  for (const char* key : {"@request.auth.claims.group", "@Request.Auth.Claims.group",
                          "@request.auth.claims[a][b]", "@request.auth.claims.a.b"}) {
    EXPECT_TRUE(no_errors(match("{headers: {\"" + std::string(key) + "\": {exact: x}}}"))) << key;
  }
  for (const char* key : {"@request.auth.claims.", "@request.auth.claims[a", "@request.auth.claims[]",
                          "@request.auth.claims"}) {
    EXPECT_TRUE(has_error(match("{headers: {\"" + std::string(key) + "\": {exact: x}}}"),
                          "spec.http[0].match[0].headers[" + std::string(key) + "]",
                          "is not a valid header name"))
        << key;
  }
}

TEST(ValidateVirtualServiceTest, JwtClaimHeadersOnlyForGateways) {
  EXPECT_TRUE(no_errors(match("{headers: {\"@request.auth.claims.group\": {exact: admin}}}")));
  const LoadResult r = vs(R"(hosts: [a.example.com]
http:
- match: [{headers: {"@request.auth.claims.group": {exact: admin}}}]
  route: [{destination: {host: a}}]
)");
  EXPECT_TRUE(
      has_error(r, "spec.http[0].match[0].headers[@request.auth.claims.group]",
                "JWT claim based routing (key: @request.auth.claims.group) is only supported for gateway"));
}

TEST(ValidateVirtualServiceTest, DelegatedRoutesMayUseRegex) {
  // Allowed since Istio 1.14 (istio/istio#38692): the merge decides conflicts.
  EXPECT_TRUE(no_errors(http("- match: [{uri: {regex: \"/a.*\"}}]\n  delegate: {name: child}\n")));
  EXPECT_TRUE(
      no_errors(vs("http: [{match: [{headers: {x: {regex: a}}}], route: [{destination: {host: a}}]}]\n")));
}

TEST(ValidateVirtualServiceTest, MatchPortSourceNamespaceAndLabels) {
  EXPECT_TRUE(has_error(match("{port: 70000}"), "spec.http[0].match[0].port",
                        "port number 70000 must be in the range"));
  EXPECT_TRUE(has_error(match("{sourceNamespace: Not_Valid}"), "spec.http[0].match[0].sourceNamespace",
                        "sourceNamespace match Not_Valid is invalid"));
  EXPECT_TRUE(has_error(match("{sourceLabels: {\"bad key!\": x}}"), "spec.http[0].match[0].sourceLabels",
                        "invalid tag key: \"bad key!\""));
  EXPECT_TRUE(has_error(match("{gateways: [\"a/b/c\"]}"), "spec.http[0].match[0].gateways[0]",
                        "invalid value for gateway name"));
}

TEST(ValidateVirtualServiceTest, DestinationHost) {
  EXPECT_TRUE(has_error(http("- route: [{destination: {host: \"*\"}}]\n"),
                        "spec.http[0].route[0].destination.host", "invalid destination host *"));
  EXPECT_TRUE(has_error(http("- route: [{destination: {subset: v1}}]\n"),
                        "spec.http[0].route[0].destination.host", "empty domain name not allowed"));
  EXPECT_TRUE(has_error(http("- route: [{destination: {host: \"a b\"}}]\n"),
                        "spec.http[0].route[0].destination.host", "invalid"));
}

TEST(ValidateVirtualServiceTest, DestinationSubsetAndPort) {
  EXPECT_TRUE(has_error(http("- route: [{destination: {host: a, subset: v1.0}}]\n"),
                        "spec.http[0].route[0].destination.subset", "subset name is invalid: v1.0"));
  EXPECT_TRUE(has_error(http("- route: [{destination: {host: a, port: {number: 65536}}}]\n"),
                        "spec.http[0].route[0].destination.port.number",
                        "port number 65536 must be in the range"));
}

TEST(ValidateVirtualServiceTest, Weights) {
  EXPECT_TRUE(has_error(http("- route: [{destination: {host: a}, weight: -1}]\n"),
                        "spec.http[0].route[0].weight", "weight -1 < 0"));
  EXPECT_TRUE(has_error(http("- route: [{destination: {host: a}, weight: 0}, {destination: {host: b}}]\n"),
                        "spec.http[0].route", "total destination weight = 0"));
  // Weights are relative: no sum-to-100 rule.
  EXPECT_TRUE(no_errors(
      http("- route: [{destination: {host: a}, weight: 1}, {destination: {host: b}, weight: 2}]\n")));
  // A single destination gets everything whatever its weight.
  EXPECT_TRUE(no_errors(http("- route: [{destination: {host: a}, weight: 0}]\n")));
}

TEST(ValidateVirtualServiceTest, Redirect) {
  EXPECT_TRUE(no_errors(http("- redirect: {scheme: https, redirectCode: 302}\n")));
  EXPECT_TRUE(has_error(http("- redirect: {redirectCode: 301}\n"), "spec.http[0].redirect",
                        "redirect must specify URI, authority, scheme, or port"));
  EXPECT_TRUE(has_error(http("- redirect: {uri: /a, prefixRewrite: /b}\n"), "spec.http[0].redirect",
                        "redirect may only specify one of uri or prefix_rewrite"));
  EXPECT_TRUE(has_error(http("- redirect: {uri: /a, redirectCode: 200}\n"),
                        "spec.http[0].redirect.redirectCode",
                        "200 is not a valid redirect code, must be 3xx"));
  EXPECT_TRUE(has_error(http("- redirect: {scheme: ftp}\n"), "spec.http[0].redirect.scheme",
                        "invalid redirect scheme, must be \"http\" or \"https\""));
  EXPECT_TRUE(
      has_error(http("- redirect: {port: 70000}\n"), "spec.http[0].redirect.port", "port number 70000"));
  EXPECT_TRUE(has_error(http("- redirect: {derivePort: SOMEWHERE}\n"), "spec.http[0].redirect.derivePort",
                        "invalid derivePort \"SOMEWHERE\""));
  EXPECT_TRUE(no_errors(http("- redirect: {derivePort: FROM_REQUEST_PORT}\n")));
}

TEST(ValidateVirtualServiceTest, RedirectPrefixRewriteNeedsPrefixMatches) {
  EXPECT_TRUE(no_errors(http("- match: [{uri: {prefix: /old}}]\n  redirect: {prefixRewrite: /new}\n")));
  EXPECT_TRUE(has_error(http("- match: [{uri: {exact: /old}}]\n  redirect: {prefixRewrite: /new}\n"),
                        "spec.http[0].redirect.prefixRewrite",
                        "redirect prefix_rewrite requires all URI matches to use prefix match type"));
}

TEST(ValidateVirtualServiceTest, DirectResponse) {
  EXPECT_TRUE(has_error(http("- directResponse: {status: 199}\n"), "spec.http[0].directResponse.status",
                        "HTTP status 199 is not in range 200-599"));
  EXPECT_TRUE(has_error(http("- directResponse: {status: 601}\n"), "spec.http[0].directResponse.status",
                        "not in range"));
  EXPECT_TRUE(no_errors(http("- directResponse: {status: 600}\n")));  // istiod's bound
  const LoadResult big = http("- directResponse: {status: 200, body: {string: \"" +
                              std::string(1024 * 1024 + 1, 'x') + "\"}}\n");
  EXPECT_TRUE(has_error(big, "spec.http[0].directResponse.body", "must be less than 1MB"));
  const LoadResult large =
      http("- directResponse: {status: 200, body: {string: \"" + std::string(100 * 1024 + 1, 'x') + "\"}}\n");
  EXPECT_TRUE(no_errors(large));
  EXPECT_TRUE(has_warning(large, "spec.http[0].directResponse.body",
                          "large direct_responses may impact control plane performance"));
}

TEST(ValidateVirtualServiceTest, Rewrite) {
  EXPECT_TRUE(has_error(rule("rewrite: {}\n"), "spec.http[0].rewrite",
                        "rewrite must specify at least one of URI, UriRegexRewrite, or authority"));
  EXPECT_TRUE(has_error(rule("rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}\n"),
                        "spec.http[0].rewrite", "rewrite may only contain one of URI or UriRegexRewrite"));
  EXPECT_TRUE(has_error(rule("rewrite: {uriRegexRewrite: {match: \"^/a\"}}\n"),
                        "spec.http[0].rewrite.uriRegexRewrite",
                        "UriRegexRewrite requires both Rewrite and Match fields to be specified"));
  EXPECT_TRUE(has_error(rule("rewrite: {uriRegexRewrite: {match: \"(\", rewrite: /}}\n"),
                        "spec.http[0].rewrite.uriRegexRewrite.match", "RE2"));
  EXPECT_TRUE(no_errors(rule("rewrite: {authority: b.example.com}\n")));
}

TEST(ValidateVirtualServiceTest, AuthorityRewrittenOnce) {
  EXPECT_TRUE(has_error(
      rule("rewrite: {authority: b.com}\nheaders: {request: {set: {host: c.com}}}\n"),
      "spec.http[0].headers.request",
      "authority header cannot be set multiple times: have \"b.com\", attempting to set \"c.com\""));
  EXPECT_TRUE(no_errors(rule("headers: {request: {set: {\":authority\": c.com}}}\n")));
}

TEST(ValidateVirtualServiceTest, HeaderOperations) {
  EXPECT_TRUE(has_error(rule("headers: {request: {set: {\":path\": /x}}}\n"),
                        "spec.http[0].headers.request.set[:path]",
                        "invalid header \":path\": header cannot have \":\" prefix"));
  EXPECT_TRUE(has_error(rule("headers: {request: {remove: [host]}}\n"),
                        "spec.http[0].headers.request.remove[0]",
                        "invalid header \"host\": cannot set Host header"));
  EXPECT_TRUE(has_error(rule("headers: {response: {set: {Host: x}}}\n"),
                        "spec.http[0].headers.response.set[Host]", "cannot set Host header"));
  EXPECT_TRUE(has_error(rule("headers: {response: {add: {x-a: \"bad\\u0001value\"}}}\n"),
                        "spec.http[0].headers.response.add[x-a]", "header value configuration"));
  EXPECT_TRUE(
      has_error(http("- route: [{destination: {host: a}, headers: {response: {remove: [\":status\"]}}}]\n"),
                "spec.http[0].route[0].headers.response.remove[0]", "header cannot have \":\" prefix"));
  EXPECT_TRUE(no_errors(rule("headers: {request: {set: {X-Ok_1: v, host: b.com}, remove: [x-gone]}}\n")));
  // Any token is a name, as in istiod (which checks no characters here).
  const LoadResult tokens =
      rule("headers: {request: {set: {\"x.a!b\": v}}, response: {remove: [\"x~y\"]}}\n");
  EXPECT_TRUE(tokens.diagnostics.empty()) << testing::dump(tokens.diagnostics);
}

TEST(ValidateVirtualServiceTest, HeaderOperationNamesThatAreNotTokensAreLeftOut) {
  // istiod accepts them; they cannot be sent, so Torii warns and leaves the operation out.
  const LoadResult r = http(
      "- route: [{destination: {host: a}, headers: {request: {set: {\"x@y\": v}}}}]\n"
      "  headers: {request: {add: {\"x a\": v}}, response: {remove: [\"x/y\"]}}\n");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.http[0].route[0].headers.request.set[x@y]",
                          "header name \"x@y\" is not a valid HTTP header name (RFC 9110 token); this "
                          "operation is not applied"));
  EXPECT_TRUE(has_warning(r, "spec.http[0].headers.request.add[x a]", "not a valid HTTP header name"));
  EXPECT_TRUE(has_warning(r, "spec.http[0].headers.response.remove[0]", "not a valid HTTP header name"));
}

TEST(ValidateVirtualServiceTest, HeaderValuesAreEnvoyFormatStrings) {
  // istiod validateHeaderValue: a lone '%' or an unterminated %VAR is an error.
  EXPECT_TRUE(has_error(rule("headers: {request: {set: {x-a: \"100%\"}}}\n"),
                        "spec.http[0].headers.request.set[x-a]",
                        "header value configuration: invalid header configuration. Un-escaped %"));
  EXPECT_TRUE(has_error(rule("headers: {response: {add: {x-a: \"%START_TIME\"}}}\n"),
                        "spec.http[0].headers.response.add[x-a]", "Un-terminated variable expression"));
  EXPECT_TRUE(has_error(rule("headers: {request: {set: {x-a: \"%REQ(x-b) x%\"}}}\n"),
                        "spec.http[0].headers.request.set[x-a]", "Expecting '%' or whitespace after"));
  // "%%" is a literal '%'.
  const LoadResult escaped = rule("headers: {request: {set: {x-a: \"100%%\"}}}\n");
  EXPECT_TRUE(escaped.diagnostics.empty()) << testing::dump(escaped.diagnostics);
  // Variables are valid but not implemented: a warning, and the operation is left out.
  const LoadResult variable = rule("headers: {request: {set: {x-ip: \"%DOWNSTREAM_REMOTE_ADDRESS%\"}}}\n");
  EXPECT_TRUE(no_errors(variable));
  EXPECT_TRUE(has_warning(variable, "spec.http[0].headers.request.set[x-ip]",
                          "uses Envoy's %VARIABLE% substitution, which Torii does not implement"));
  EXPECT_TRUE(no_errors(rule("headers: {request: {set: {x-a: \"%REQ([\\\"x\\\"])%\"}}}\n")));
  // The authority is taken literally (Envoy host_rewrite_literal): no warning.
  const LoadResult authority = rule("headers: {request: {set: {host: \"a%%b.com\"}}}\n");
  EXPECT_TRUE(authority.diagnostics.empty()) << testing::dump(authority.diagnostics);
}

TEST(ValidateVirtualServiceTest, Retries) {
  EXPECT_TRUE(has_error(rule("retries: {attempts: -1}\n"), "spec.http[0].retries.attempts",
                        "attempts cannot be negative"));
  EXPECT_TRUE(has_error(rule("retries: {attempts: 0, retryOn: 5xx}\n"), "spec.http[0].retries",
                        "http retry policy configured when attempts are set to 0 (disabled)"));
  EXPECT_TRUE(
      has_error(rule("retries: {perTryTimeout: 1s}\n"), "spec.http[0].retries", "attempts are set to 0"));
  EXPECT_TRUE(no_errors(rule("retries: {attempts: 0}\n")));
  EXPECT_TRUE(has_error(rule("retries: {attempts: 1, retryOn: \"5xx,sometimes\"}\n"),
                        "spec.http[0].retries.retryOn", "\"sometimes\" is not a valid retryOn policy"));
  EXPECT_TRUE(has_error(rule("retries: {attempts: 1, retryOn: \"5xx, reset\"}\n"),
                        "spec.http[0].retries.retryOn", "\" reset\" is not a valid retryOn policy"));
  EXPECT_TRUE(has_error(rule("retries: {attempts: 1, retryOn: \"599\"}\n"), "spec.http[0].retries.retryOn",
                        "\"599\" is not a valid retryOn policy"));
  EXPECT_TRUE(no_errors(
      rule("retries: {attempts: 1, retryOn: \"gateway-error,retriable-status-codes,503,cancelled\"}\n")));
  // Status codes as Go's strconv.Atoi reads them.
  EXPECT_TRUE(no_errors(rule("retries: {attempts: 1, retryOn: \"0503,+502\"}\n")));
  EXPECT_TRUE(has_error(rule("retries: {attempts: 1, retryOn: \"-503\"}\n"), "spec.http[0].retries.retryOn",
                        "\"-503\" is not a valid retryOn policy"));
}

TEST(ValidateVirtualServiceTest, DurationsAtLeastOneMillisecond) {
  EXPECT_TRUE(has_error(rule("timeout: 0s\n"), "spec.http[0].timeout", "duration must be greater than 1ms"));
  EXPECT_TRUE(has_error(rule("retries: {attempts: 1, perTryTimeout: 0s}\n"),
                        "spec.http[0].retries.perTryTimeout", "duration must be greater than 1ms"));
  EXPECT_TRUE(no_errors(rule("timeout: 1ms\n")));
}

TEST(ValidateVirtualServiceTest, ExportTo) {
  auto with = [](std::string_view export_to) {
    return vs(
        "hosts: [a.example.com]\ngateways: [gw]\nhttp: [{route: [{destination: {host: a}}]}]\nexportTo: " +
        std::string(export_to) + "\n");
  };
  EXPECT_TRUE(no_errors(with("[\".\", other]")));
  EXPECT_TRUE(has_error(with("[a, a]"), "spec.exportTo[1]", "duplicate entries in exportTo for entry a"));
  EXPECT_TRUE(has_error(with("[ns, \".\"]"), "spec.exportTo[1]",
                        "duplicate entries in exportTo: . and current namespace ns"));
  EXPECT_TRUE(
      has_error(with("[\".\", ns]"), "spec.exportTo[1]", "duplicate entries in exportTo for entry ns"));
  EXPECT_TRUE(has_error(with("[\"*\", a]"), "spec.exportTo",
                        "cannot have both public (*) and non-public exportTo values for a resource"));
  EXPECT_TRUE(has_error(with("[\"~\"]"), "spec.exportTo[0]",
                        "exportTo ~ (none) is not allowed for Istio configuration objects"));
  EXPECT_TRUE(has_error(with("[Bad_Ns]"), "spec.exportTo[0]",
                        "only .,*, or a valid DNS 1123 label is allowed as exportTo entry"));
}

TEST(ValidateVirtualServiceTest, UnreachableRulesWarn) {
  const LoadResult r = http(R"(- name: first
  match: [{uri: {prefix: /a}}]
  route: [{destination: {host: a}}]
- match: [{uri: {prefix: /a}, name: again}]
  route: [{destination: {host: b}}]
- route: [{destination: {host: c}}]
- match: [{uri: {prefix: /late}}]
  route: [{destination: {host: d}}]
)");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(
      r, "spec.http[1].match[0]",
      "virtualService rule #1 match \"again\" is not used (duplicate/overlapping match in rule \"first\")"));
  EXPECT_TRUE(
      has_warning(r, "spec.http[1]", "virtualService rule #1 not used (all matches used by prior rules)"));
  EXPECT_TRUE(has_warning(r, "spec.http[3]",
                          "virtualService rule #3 not used (route without matches defined before)"));
}

TEST(ValidateVirtualServiceTest, ManyErrorsReportedAtOnce) {
  const LoadResult r =
      http("- route: [{destination: {host: \"*\", subset: \"a.b\"}, weight: -5}]\n  timeout: 0s\n");
  EXPECT_TRUE(rejected(r));
  EXPECT_EQ(r.objects[0].errors.size(), 4u) << testing::dump(r.objects[0].errors);
}

TEST(ValidateVirtualServiceTest, ErrorLineIsTheFieldLine) {
  const LoadResult r = testing::load(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec:
  hosts: [a.example.com]
  gateways: [gw]
  http:
  - route:
    - destination:
        host: a
      weight: -3
)");
  ASSERT_TRUE(has_error(r, "spec.http[0].route[0].weight", "weight -3 < 0"));
  EXPECT_EQ(r.objects[0].errors[0].source.line, 11);
}

}  // namespace
}  // namespace torii::config
