// Route policy fields of a VirtualService HTTP rule: read from YAML and
// validated with istiod's rules and messages (ISTIO_SEMANTICS §3.7-§3.10, §9).
#include <gtest/gtest.h>

#include "config/validate_route_policies.h"
#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::no_errors;
using testing::rejected;

LoadResult rule(std::string_view extra) {
  return testing::load_istio("VirtualService",
                             "hosts: [a.example.com]\ngateways: [istio-system/gw]\nhttp:\n" +
                                 std::string("- route: [{destination: {host: a}}]\n") +
                                 testing::indent(extra, 2),
                             "vs");
}

HTTPRoute only_rule(const LoadResult& r) {
  static const HTTPRoute kEmpty;
  if (r.resources().virtual_services.size() != 1 || r.resources().virtual_services[0].http.empty()) {
    ADD_FAILURE() << testing::dump(r.diagnostics);
    return kEmpty;
  }
  return r.resources().virtual_services[0].http[0];
}

TEST(RoutePoliciesParseTest, AllFieldsRead) {
  const LoadResult r = rule(R"(fault:
  delay: {fixedDelay: 150ms, percentage: {value: 12.5}}
  abort: {grpcStatus: UNAVAILABLE, percentage: {value: 1}}
mirror: {host: m, subset: v1, port: {number: 8080}}
mirrorPercentage: {value: 33.3}
corsPolicy:
  allowOrigins: [{exact: "https://a.com"}, {prefix: "https://b"}, {regex: ".*\\.c\\.com"}]
  allowMethods: [GET, POST]
  allowHeaders: [x-a]
  exposeHeaders: [x-b, x-c]
  maxAge: 2m
  allowCredentials: false
  unmatchedPreflights: ignore
retries: {attempts: 3, backoff: 40ms, retryIgnorePreviousHosts: false, retryRemoteLocalities: true}
)");
  ASSERT_TRUE(no_errors(r));
  const HTTPRoute& h = only_rule(r);
  const HTTPRoutePolicies& p = h.policies;
  ASSERT_TRUE(p.fault && p.fault->delay && p.fault->abort);
  EXPECT_EQ(p.fault->delay->fixed_delay_ms, 150);
  EXPECT_DOUBLE_EQ(p.fault->delay->percentage->value, 12.5);
  EXPECT_EQ(*p.fault->abort->grpc_status, "UNAVAILABLE");
  EXPECT_FALSE(p.fault->abort->http_status);
  ASSERT_TRUE(p.mirror);
  EXPECT_EQ(p.mirror->host, "m");
  EXPECT_EQ(p.mirror->subset, "v1");
  EXPECT_EQ(p.mirror->port.number, 8080u);
  EXPECT_DOUBLE_EQ(p.mirror_percentage->value, 33.3);
  ASSERT_TRUE(p.cors_policy);
  const CorsPolicy& c = *p.cors_policy;
  ASSERT_EQ(c.allow_origins.size(), 3u);
  EXPECT_EQ(c.allow_origins[1].kind, StringMatch::Kind::Prefix);
  EXPECT_EQ(c.allow_methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(c.expose_headers.size(), 2u);
  EXPECT_EQ(c.max_age_ms, 120000);
  EXPECT_EQ(c.allow_credentials, false);
  EXPECT_EQ(c.unmatched_preflights, "IGNORE");
  ASSERT_TRUE(h.retries);
  EXPECT_EQ(h.retries->backoff_ms, 40);
  EXPECT_EQ(h.retries->retry_ignore_previous_hosts, false);
  EXPECT_EQ(h.retries->retry_remote_localities, true);
  EXPECT_TRUE(h.has_fault);
}

TEST(RoutePoliciesParseTest, MirrorsListAndDeprecatedForms) {
  const LoadResult r = rule(R"(mirrors:
- destination: {host: m1}
- destination: {host: m2}
  percentage: {value: 5}
corsPolicy: {allowOrigin: ["https://old.com"]}
fault: {delay: {fixedDelay: 1s, percent: 20}}
)");
  ASSERT_TRUE(no_errors(r));
  const HTTPRoutePolicies p = only_rule(r).policies;
  ASSERT_EQ(p.mirrors.size(), 2u);
  EXPECT_FALSE(p.mirrors[0].percentage);
  EXPECT_DOUBLE_EQ(p.mirrors[1].percentage->value, 5);
  EXPECT_EQ(p.cors_policy->allow_origin, (std::vector<std::string>{"https://old.com"}));
  EXPECT_EQ(p.fault->delay->percent, 20);
  EXPECT_FALSE(p.fault->delay->percentage);
}

TEST(RoutePoliciesValidateTest, Fault) {
  EXPECT_TRUE(has_error(rule("fault: {}\n"), "spec.http[0].fault",
                        "HTTP fault injection must have an abort and/or a delay"));
  EXPECT_TRUE(has_error(rule("fault: {abort: {httpStatus: 700}}\n"), "spec.http[0].fault.abort.httpStatus",
                        "HTTP status 700 is not in range 200-599"));
  EXPECT_TRUE(no_errors(rule("fault: {abort: {httpStatus: 600}}\n")));  // istiod lets 600 through
  EXPECT_TRUE(has_error(rule("fault: {abort: {httpStatus: 503, percentage: {value: 100.5}}}\n"),
                        "spec.http[0].fault.abort.percentage",
                        "percentage 100.5 is neither 0.0, nor in range [0.0001, 100.0]"));
  EXPECT_TRUE(has_error(rule("fault: {abort: {httpStatus: 503, percentage: {value: 0.00001}}}\n"),
                        "spec.http[0].fault.abort.percentage", "percentage 1e-05 is neither 0.0"));
  EXPECT_TRUE(has_error(rule("fault: {abort: {grpcStatus: NOPE}}\n"), "spec.http[0].fault.abort.grpcStatus",
                        "gRPC status \"NOPE\" is not supported"));
  EXPECT_TRUE(has_error(rule("fault: {abort: {http2Error: FOO}}\n"), "spec.http[0].fault.abort.http2Error",
                        "HTTP/2 abort fault injection not supported yet"));
  EXPECT_TRUE(has_warning(rule("fault: {abort: {percentage: {value: 5}}}\n"), "spec.http[0].fault.abort",
                          "abort configured, but error type not set"));
  EXPECT_TRUE(has_error(rule("fault: {delay: {exponentialDelay: 1s}}\n"),
                        "spec.http[0].fault.delay.exponentialDelay", "exponentialDelay not supported yet"));
  EXPECT_TRUE(has_error(rule("fault: {delay: {fixedDelay: 0s}}\n"), "spec.http[0].fault.delay.fixedDelay",
                        "duration must be greater than 1ms"));
  // istiod does not check the deprecated integer; Envoy caps it (and a negative one wraps) at 100%.
  for (const char* percent : {"101", "-1"}) {
    const LoadResult r = rule("fault: {delay: {fixedDelay: 1s, percent: " + std::string(percent) + "}}\n");
    EXPECT_TRUE(no_errors(r)) << percent;
    EXPECT_TRUE(has_warning(r, "spec.http[0].fault.delay.percent", "the delay applies to every request"))
        << percent;
  }
  // Fault conflicts with redirect / directResponse (core validation, via has_fault).
  EXPECT_TRUE(rejected(testing::load_istio("VirtualService", R"(hosts: [a.example.com]
http:
- redirect: {uri: /x}
  fault: {abort: {httpStatus: 503}}
)")));
  for (const char* name : {"OK", "CANCELLED", "UNAVAILABLE", "UNAUTHENTICATED", "DATA_LOSS"})
    EXPECT_GE(grpc_status_code(name), 0) << name;
  EXPECT_EQ(grpc_status_code("UNAVAILABLE"), 14);
  EXPECT_EQ(grpc_status_code("unavailable"), -1);
}

TEST(RoutePoliciesValidateTest, Mirrors) {
  EXPECT_TRUE(has_error(rule("mirror: {host: m}\nmirrors: [{destination: {host: n}}]\n"), "spec.http[0]",
                        "HTTP route cannot contain both mirror and mirrors"));
  EXPECT_TRUE(has_error(rule("mirror: {host: m}\nmirrorPercentage: {value: 101}\n"),
                        "spec.http[0].mirrorPercentage",
                        "mirror_percentage must have a max value of 100 (it has 101.000000)"));
  EXPECT_TRUE(has_error(rule("mirror: {host: m}\nmirrorPercentage: {value: -1}\n"),
                        "spec.http[0].mirrorPercentage", "mirror_percentage must have a min value of 0"));
  EXPECT_TRUE(
      has_error(rule("mirror: {host: \"*\"}\n"), "spec.http[0].mirror.host", "invalid destination host *"));
  EXPECT_TRUE(has_error(rule("mirrors: [{percentage: {value: 5}}]\n"), "spec.http[0].mirrors[0].destination",
                        "destination is required for mirrors"));
  EXPECT_TRUE(has_error(rule("mirrors: [{destination: {host: m}, percentage: {value: 200}}]\n"),
                        "spec.http[0].mirrors[0].percentage",
                        "mirror percentage must have a max value of 100 (it has 200.000000)"));
  EXPECT_TRUE(has_error(rule("mirrors: [{destination: {host: m, subset: Bad_Subset}}]\n"),
                        "spec.http[0].mirrors[0].destination.subset", "subset name is invalid"));
  const LoadResult deprecated = rule("mirror: {host: m}\nmirrorPercent: 50\n");
  EXPECT_TRUE(no_errors(deprecated));
  EXPECT_TRUE(has_warning(deprecated, "spec.http[0].mirrorPercent",
                          "using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" instead"));
  EXPECT_TRUE(has_error(rule("mirror: {host: m}\nmirrorPercent: 150\n"), "spec.http[0].mirrorPercent",
                        "mirror_percent must have a max value of 100 (it has 150)"));
  EXPECT_TRUE(rejected(rule("mirror: {host: m}\nmirrorPercent: -1\n")));  // a UInt32Value
}

TEST(RoutePoliciesValidateTest, Cors) {
  EXPECT_TRUE(has_error(rule("corsPolicy: {allowOrigins: [{exact: \"\"}]}\n"),
                        "spec.http[0].corsPolicy.allowOrigins[0]",
                        "'' is not a valid match type for CORS allow origins"));
  EXPECT_TRUE(has_error(rule("corsPolicy: {allowOrigins: [{regex: \"(\"}]}\n"),
                        "spec.http[0].corsPolicy.allowOrigins[0].regex", "is not a valid regex"));
  EXPECT_TRUE(has_error(rule("corsPolicy: {allowMethods: [GET, FETCH]}\n"),
                        "spec.http[0].corsPolicy.allowMethods[1]",
                        "\"FETCH\" is not a supported HTTP method"));
  EXPECT_TRUE(has_error(rule("corsPolicy: {allowHeaders: [\"x y\"]}\n"),
                        "spec.http[0].corsPolicy.allowHeaders[0]",
                        "header name x y is not a valid header name"));
  EXPECT_TRUE(has_error(rule("corsPolicy: {exposeHeaders: [\"\"]}\n"),
                        "spec.http[0].corsPolicy.exposeHeaders[0]", "header name cannot be empty"));
  EXPECT_TRUE(has_error(rule("corsPolicy: {maxAge: 1500ms}\n"), "spec.http[0].corsPolicy.maxAge",
                        "max_age duration is accurate only to seconds precision"));
  EXPECT_TRUE(has_error(rule("corsPolicy: {unmatchedPreflights: DROP}\n"),
                        "spec.http[0].corsPolicy.unmatchedPreflights", "invalid value \"DROP\""));
  EXPECT_TRUE(
      no_errors(rule("corsPolicy: {allowOrigins: [{prefix: \"https://\"}], allowMethods: [GET, OPTIONS, "
                     "PATCH], maxAge: 10s}\n")));
  // istiod: "*" for methods and headers, any token for header names.
  const LoadResult wide = rule(
      "corsPolicy: {allowOrigins: [{exact: \"*\"}], allowMethods: [\"*\"], allowHeaders: [\"*\", "
      "\"x.custom!\"], exposeHeaders: [\"*\", \"x_b~\"]}\n");
  EXPECT_TRUE(wide.diagnostics.empty()) << testing::dump(wide.diagnostics);
  EXPECT_TRUE(has_error(rule("corsPolicy: {allowHeaders: [\"x@y\"]}\n"),
                        "spec.http[0].corsPolicy.allowHeaders[0]",
                        "header name x@y is not a valid header name"));
}

TEST(RoutePoliciesValidateTest, RetryBackoff) {
  EXPECT_TRUE(has_error(rule("retries: {attempts: 1, backoff: 0s}\n"), "spec.http[0].retries.backoff",
                        "duration must be greater than 1ms"));
  EXPECT_TRUE(no_errors(rule("retries: {attempts: 1, backoff: 100ms}\n")));
}

}  // namespace
}  // namespace torii::config
