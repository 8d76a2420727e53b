#include "telemetry/prometheus_writer.h"

#include <gtest/gtest.h>

namespace torii::telemetry {
namespace {

TEST(PrometheusWriterTest, MetricNamesAreSanitised) {
  EXPECT_EQ(metric_name("envoy_", "cluster.upstream_rq_total"), "envoy_cluster_upstream_rq_total");
  EXPECT_EQ(metric_name("envoy_", "http.a-b:c"), "envoy_http_a_b_c");
  EXPECT_EQ(metric_name("", "ok_Name9"), "ok_Name9");
}

TEST(PrometheusWriterTest, LabelValuesAreEscapedAsPrometheusRequires) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("outbound|80||h.svc"), "outbound|80||h.svc");  // nothing else escaped
  EXPECT_EQ(escape_label_value("h\xC3\xA9"), "h\xC3\xA9");                    // UTF-8 passes
  EXPECT_EQ(format_labels({}), "{}");
  EXPECT_EQ(format_labels({{"a", "1"}, {"b", "x\"y"}}), "{a=\"1\",b=\"x\\\"y\"}");
}

TEST(PrometheusWriterTest, FamiliesGroupedSortedCountersThenGaugesThenHistograms) {
  PrometheusWriter w;
  w.gauge("envoy_server_live", {}, 1);
  w.counter("b_total", {{"k", "2"}}, 5);
  w.counter("a_total", {}, 1);
  w.counter("b_total", {{"k", "1"}}, 7);
  w.counter("b_total", {{"k", "1"}}, 1);  // the same series again: added up
  HistogramSnapshot h;
  h.buckets[1] = 2;  // two values in (0.5, 1]
  h.buckets[19] = 1;
  h.count = 3;
  h.sum = 5000001;
  w.histogram("lat", {{"x", "y"}}, h);
  const std::string expected =
      "# TYPE a_total counter\n"
      "a_total{} 1\n"
      "\n"
      "# TYPE b_total counter\n"
      "b_total{k=\"1\"} 8\n"
      "b_total{k=\"2\"} 5\n"
      "\n"
      "# TYPE envoy_server_live gauge\n"
      "envoy_server_live{} 1\n"
      "\n"
      "# TYPE lat histogram\n"
      "lat_bucket{x=\"y\",le=\"0.5\"} 0\n"
      "lat_bucket{x=\"y\",le=\"1\"} 2\n"
      "lat_bucket{x=\"y\",le=\"5\"} 2\n"
      "lat_bucket{x=\"y\",le=\"10\"} 2\n"
      "lat_bucket{x=\"y\",le=\"25\"} 2\n"
      "lat_bucket{x=\"y\",le=\"50\"} 2\n"
      "lat_bucket{x=\"y\",le=\"100\"} 2\n"
      "lat_bucket{x=\"y\",le=\"250\"} 2\n"
      "lat_bucket{x=\"y\",le=\"500\"} 2\n"
      "lat_bucket{x=\"y\",le=\"1000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"2500\"} 2\n"
      "lat_bucket{x=\"y\",le=\"5000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"10000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"30000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"60000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"300000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"600000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"1800000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"3600000\"} 2\n"
      "lat_bucket{x=\"y\",le=\"+Inf\"} 3\n"
      "lat_sum{x=\"y\"} 5000001\n"
      "lat_count{x=\"y\"} 3\n"
      "\n";
  EXPECT_EQ(w.render(), expected);
}

TEST(PrometheusWriterTest, HistogramWithoutLabelsPutsLeAlone) {
  PrometheusWriter w;
  HistogramSnapshot h;
  w.histogram("t", {}, h);
  const std::string out = w.render();
  EXPECT_NE(out.find("t_bucket{le=\"0.5\"} 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("t_sum{} 0\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace torii::telemetry
