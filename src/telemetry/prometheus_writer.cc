#include "telemetry/prometheus_writer.h"

namespace torii::telemetry {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Envoy's default bounds as Envoy prints them (shortest general form).
constexpr const char* kBucketText[kDefaultBuckets.size()] = {
    "0.5",  "1",    "5",     "10",    "25",    "50",     "100",    "250",     "500",    "1000",
    "2500", "5000", "10000", "30000", "60000", "300000", "600000", "1800000", "3600000"};

// The label text with `le` appended last: `{a="x",le="1"}`.
std::string with_le(const std::string& labels, const char* le) {
  std::string out = labels.substr(0, labels.size() - 1);  // drop '}'
  if (out.size() > 1) out += ',';
  out += "le=\"";
  out += le;
  out += "\"}";
  return out;
}

template <typename V, typename Write>
void render_families(std::string& out, const std::map<std::string, std::map<std::string, V>>& families,
                     const char* type, Write write) {
  for (const auto& [name, series] : families) {
    out += "# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    for (const auto& [labels, value] : series) write(name, labels, value);
    out += '\n';
  }
}

}  // namespace

std::string metric_name(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  out.reserve(prefix.size() + name.size());
  for (char c : name) out += name_char(c) ? c : '_';
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_labels(const Labels& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += escape_label_value(labels[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

void PrometheusWriter::counter(const std::string& name, const Labels& labels, uint64_t value) {
  counters_[name][format_labels(labels)] += value;
}

void PrometheusWriter::gauge(const std::string& name, const Labels& labels, uint64_t value) {
  gauges_[name][format_labels(labels)] += value;
}

void PrometheusWriter::histogram(const std::string& name, const Labels& labels,
                                 const HistogramSnapshot& value) {
  histograms_[name][format_labels(labels)].add(value);
}

void PrometheusWriter::counter_formatted(const std::string& name, const std::string& labels, uint64_t value) {
  counters_[name][labels] += value;
}

void PrometheusWriter::histogram_formatted(const std::string& name, const std::string& labels,
                                           const HistogramSnapshot& value) {
  histograms_[name][labels].add(value);
}

std::string PrometheusWriter::render() const {
  std::string out;
  auto scalar = [&out](const std::string& name, const std::string& labels, uint64_t value) {
    out += name;
    out += labels;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  };
  render_families(out, counters_, "counter", scalar);
  render_families(out, gauges_, "gauge", scalar);
  render_families(out, histograms_, "histogram",
                  [&out](const std::string& name, const std::string& labels, const HistogramSnapshot& h) {
                    uint64_t cumulative = 0;
                    for (size_t i = 0; i < kDefaultBuckets.size(); ++i) {
                      cumulative += h.buckets[i];
                      out += name + "_bucket" + with_le(labels, kBucketText[i]) + ' ' +
                             std::to_string(cumulative) + '\n';
                    }
                    out += name + "_bucket" + with_le(labels, "+Inf") + ' ' + std::to_string(h.count) + '\n';
                    out += name + "_sum" + labels + ' ' + std::to_string(h.sum) + '\n';
                    out += name + "_count" + labels + ' ' + std::to_string(h.count) + '\n';
                  });
  return out;
}

}  // namespace torii::telemetry
