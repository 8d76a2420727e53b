#include <charconv>
#include <string>

#include "config/validate.h"
#include "config/validate_common.h"

namespace torii::config {

Diagnostics validate(const Telemetry& telemetry, const FieldLines& lines) {
  Report r("Telemetry", telemetry.meta, lines);
  if (telemetry.has_target_refs) {
    r.error(
        "spec.targetRefs",
        "targetRef(s) attach to Gateway API gateways, which Torii does not serve; use selector.matchLabels");
  }
  for (size_t i = 0; i < telemetry.access_logging.size(); ++i) {
    const AccessLogging& rule = telemetry.access_logging[i];
    const std::string field = at("spec.accessLogging", i);
    if (!rule.filter_error.empty()) r.error(field + ".filter.expression", rule.filter_error);
    const std::string& mode = rule.match_mode;
    if (!mode.empty() && mode != "CLIENT_AND_SERVER" && mode != "CLIENT" && mode != "SERVER") {
      r.error(field + ".match.mode",
              "unknown mode '" + mode + "', must be CLIENT_AND_SERVER, CLIENT or SERVER");
    }
    for (size_t p = 0; p < rule.providers.size(); ++p) {
      // Istio's built-in provider; others are meshConfig extensionProviders,
      // which a standalone gateway has none of.
      if (rule.providers[p] != "envoy") {
        r.warning(
            at(field + ".providers", p) + ".name",
            "provider '" + rule.providers[p] +
                "' is not known to Torii (only the built-in 'envoy' file logger, written to --access-log)");
      }
    }
  }
  for (size_t i = 0; i < telemetry.tracing.size(); ++i) {
    const TracingRule& rule = telemetry.tracing[i];
    const std::string field = at("spec.tracing", i);
    if (rule.random_sampling_percentage) {
      const double p = *rule.random_sampling_percentage;
      // Istio's webhook: 0..100 (istio/api telemetry.proto).
      if (!(p >= 0 && p <= 100)) {
        char text[32];
        const auto [end, ec] = std::to_chars(text, text + sizeof(text), p);  // shortest form: "150", "-0.5"
        r.error(
            field + ".randomSamplingPercentage",
            "must be from 0 to 100, got " + (ec == std::errc() ? std::string(text, end) : std::string("?")));
      }
    }
    const std::string& mode = rule.match_mode;
    if (!mode.empty() && mode != "CLIENT_AND_SERVER" && mode != "CLIENT" && mode != "SERVER") {
      r.error(field + ".match.mode",
              "unknown mode '" + mode + "', must be CLIENT_AND_SERVER, CLIENT or SERVER");
    }
    if (rule.providers.size() > 1) {
      r.warning(field + ".providers", "only the first provider is used (as Istio)");
    }
  }
  return r.take();
}

}  // namespace torii::config
