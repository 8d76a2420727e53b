// telemetry.istio.io Telemetry: reads accessLogging and tracing (metrics,
// and tracing's customTags and the like, are not modelled and are ignored).
#include "config/parsers.h"

namespace torii::config {

void read_telemetry(const Field& spec, Telemetry& out) {
  if (!spec.expect_map()) return;
  const Field selector = spec["selector"];
  if (selector.expect_map()) out.selector = selector["matchLabels"].string_map();
  out.has_target_refs = spec["targetRef"].present() || spec["targetRefs"].present();
  for (const Field& item : spec["accessLogging"].items()) {
    AccessLogging rule;
    if (!item.expect_map()) continue;
    for (const Field& provider : item["providers"].items()) {
      if (provider.expect_map()) rule.providers.push_back(provider["name"].string());
    }
    rule.disabled = item["disabled"].boolean();
    rule.match_mode = item["match"].expect_map() ? item["match"]["mode"].upper_string() : "";
    const Field filter = item["filter"];
    if (filter.expect_map()) {
      const std::string expression = filter["expression"].string();
      if (!expression.empty()) {
        rule.filter = AccessLogFilter::parse(expression, rule.filter_error);
        if (!rule.filter && rule.filter_error.empty()) rule.filter_error = "does not parse";
      }
    }
    out.access_logging.push_back(std::move(rule));
  }
  for (const Field& item : spec["tracing"].items()) {
    TracingRule rule;
    if (!item.expect_map()) continue;
    for (const Field& provider : item["providers"].items()) {
      if (provider.expect_map()) rule.providers.push_back(provider["name"].string());
    }
    // google.protobuf.DoubleValue: written as a bare number.
    const Field percent = item["randomSamplingPercentage"];
    if (percent.present()) {
      const std::optional<double> value =
          percent.node().IsScalar() ? scalar_to_double(percent.node().Scalar()) : std::nullopt;
      if (value) {
        rule.random_sampling_percentage = *value;
      } else {
        percent.error("expected a number from 0 to 100");
      }
    }
    rule.disable_span_reporting = item["disableSpanReporting"].boolean();
    rule.match_mode = item["match"].expect_map() ? item["match"]["mode"].upper_string() : "";
    out.tracing.push_back(std::move(rule));
  }
}

}  // namespace torii::config
