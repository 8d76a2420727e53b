#include <gtest/gtest.h>

#include "config/access_log_filter.h"
#include "test_util.h"

namespace torii::config {
namespace {

bool filter(std::string_view expression, int code) {
  std::string error;
  const auto f = AccessLogFilter::parse(expression, error);
  EXPECT_TRUE(f.has_value()) << expression << ": " << error;
  return f && f->matches(code);
}

std::string filter_error(std::string_view expression) {
  std::string error;
  EXPECT_FALSE(AccessLogFilter::parse(expression, error).has_value()) << expression;
  return error;
}

TEST(AccessLogFilter, Comparisons) {
  EXPECT_TRUE(filter("response.code >= 400", 404));
  EXPECT_FALSE(filter("response.code >= 400", 200));
  EXPECT_TRUE(filter("response.code == 0", 0));
  EXPECT_TRUE(filter("response.code != 200", 503));
  EXPECT_TRUE(filter("response.code<300", 200));
  EXPECT_FALSE(filter("response.code > 500", 500));
  EXPECT_TRUE(filter("response.code <= 500", 500));
  EXPECT_TRUE(filter("400 <= response.code", 400));
}

TEST(AccessLogFilter, LogicAndPrecedence) {
  // && binds tighter than ||.
  EXPECT_TRUE(filter("response.code == 0 || response.code >= 400 && response.code < 500", 0));
  EXPECT_FALSE(filter("response.code == 0 || response.code >= 400 && response.code < 500", 503));
  EXPECT_FALSE(filter("(response.code == 0 || response.code >= 400) && response.code < 500", 503));
  EXPECT_TRUE(filter("!(response.code == 200)", 404));
  EXPECT_FALSE(filter("!(response.code == 200)", 200));
}

TEST(AccessLogFilter, UnsupportedIsAnError) {
  EXPECT_NE(filter_error("xds.cluster_name == \"BlackHoleCluster\"").find("'xds.cluster_name"),
            std::string::npos);
  EXPECT_NE(filter_error("response.code").find("comparison"), std::string::npos);
  EXPECT_NE(filter_error("response.code >= 400 ||").find("offset"), std::string::npos);
  EXPECT_NE(filter_error("(response.code >= 400").find("')'"), std::string::npos);
  EXPECT_NE(filter_error("response.code >= 400 )").find("unexpected"), std::string::npos);
}

TEST(Telemetry, ParsedFromBothApiVersions) {
  for (const char* version : {"telemetry.istio.io/v1", "telemetry.istio.io/v1alpha1"}) {
    const LoadResult r = testing::load(testing::object(version, "Telemetry", R"(selector:
  matchLabels: {istio: ingressgateway}
accessLogging:
- providers: [{name: envoy}]
  filter: {expression: "response.code >= 400"}
- disabled: true
  match: {mode: SERVER}
)"));
    ASSERT_TRUE(testing::no_errors(r)) << version;
    const ResourceSet resources = r.resources();  // by value
    ASSERT_EQ(resources.telemetries.size(), 1u) << version;
    const Telemetry& t = resources.telemetries[0];
    ASSERT_TRUE(t.selector.has_value());
    EXPECT_EQ(t.selector->at("istio"), "ingressgateway");
    ASSERT_EQ(t.access_logging.size(), 2u);
    EXPECT_EQ(t.access_logging[0].providers, std::vector<std::string>{"envoy"});
    ASSERT_TRUE(t.access_logging[0].filter.has_value());
    EXPECT_TRUE(t.access_logging[0].filter->matches(500));
    EXPECT_TRUE(t.access_logging[1].disabled);
    EXPECT_EQ(t.access_logging[1].match_mode, "SERVER");
  }
}

TEST(Telemetry, ErrorsNameTheField) {
  const LoadResult r = testing::load(testing::object("telemetry.istio.io/v1", "Telemetry", R"(accessLogging:
- filter: {expression: "request.headers['x'] == 'y'"}
- match: {mode: SIDEWAYS}
)"));
  EXPECT_TRUE(testing::has_error(r, "spec.accessLogging[0].filter.expression", "not supported"));
  EXPECT_TRUE(testing::has_error(r, "spec.accessLogging[1].match.mode", "SIDEWAYS"));
  EXPECT_TRUE(r.resources().telemetries.empty());
}

TEST(Telemetry, UnknownProviderIsAWarning) {
  const LoadResult r = testing::load(testing::object("telemetry.istio.io/v1", "Telemetry", R"(accessLogging:
- providers: [{name: otel}]
)"));
  EXPECT_TRUE(testing::no_errors(r));
  EXPECT_TRUE(testing::has_warning(r, "spec.accessLogging[0].providers[0].name", "otel"));
}

}  // namespace
}  // namespace torii::config
