// Prometheus text exposition format 0.0.4 as Envoy's /stats/prometheus
// writes it: `# TYPE` lines only (no `# HELP`), families grouped and sorted
// by name with their series sorted by labels, counters first, then gauges,
// then histograms, an empty line after each family, braces even without
// labels (`envoy_server_live{} 1`), no timestamps, `le` last and printed in
// shortest form (`le="0.5"`, `le="3600000"`, `le="+Inf"`).
//
// Admin thread only; builds the whole page in memory (a scrape of a gateway
// is a few hundred KB at most).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/histogram.h"

namespace torii::telemetry {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// `prefix` + name with every character outside [a-zA-Z0-9_] turned into '_'
// (Envoy: "cluster.upstream_rq_total" -> "envoy_cluster_upstream_rq_total").
std::string metric_name(std::string_view prefix, std::string_view name);
// A label value escaped for the text format: \ -> \\, newline -> \n, " -> \".
std::string escape_label_value(std::string_view value);
// `{a="x",b="y"}` (`{}` without labels), values escaped, in the given order.
std::string format_labels(const Labels& labels);

class PrometheusWriter {
 public:
  // A series seen twice (same name and labels) is added up.
  void counter(const std::string& name, const Labels& labels, uint64_t value);
  void gauge(const std::string& name, const Labels& labels, uint64_t value);
  void histogram(const std::string& name, const Labels& labels, const HistogramSnapshot& value);
  // Same, with labels already formatted by format_labels() (merging many
  // workers' series keyed by their label text).
  void counter_formatted(const std::string& name, const std::string& labels, uint64_t value);
  void histogram_formatted(const std::string& name, const std::string& labels,
                           const HistogramSnapshot& value);

  std::string render() const;

 private:
  template <typename V>
  using Families = std::map<std::string, std::map<std::string, V>>;
  Families<uint64_t> counters_;
  Families<uint64_t> gauges_;
  Families<HistogramSnapshot> histograms_;
};

}  // namespace torii::telemetry
