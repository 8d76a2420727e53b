#include "compile/telemetry_selection.h"

#include <algorithm>
#include <cmath>

#include "compile/labels.h"

namespace torii::compile {

namespace {

// 3 = selector matching the gateway, 2 = namespace-wide, 1 = mesh-wide; 0 = not this gateway.
int specificity(const config::Telemetry& t, const GatewayIdentity& identity) {
  const bool has_selector = t.selector.has_value() && !t.selector->empty();
  if (t.meta.namespace_ == identity.namespace_) {
    if (!has_selector) return 2;
    return labels_subset(*t.selector, identity.labels) ? 3 : 0;
  }
  if (t.meta.namespace_ == kRootNamespace && !has_selector) return 1;
  return 0;
}

}  // namespace

AccessLogPolicy select_access_log(const config::ObjectList<config::Telemetry>& telemetries,
                                  const GatewayIdentity& identity) {
  const config::Telemetry* best = nullptr;
  int best_level = 0;
  for (const config::Telemetry& t : telemetries) {
    if (t.access_logging.empty()) continue;  // inherits: says nothing about the log
    const int level = specificity(t, identity);
    if (level > best_level) {  // ties: the first loaded stays
      best = &t;
      best_level = level;
    }
  }
  AccessLogPolicy policy;
  if (best == nullptr) return policy;
  for (const config::AccessLogging& rule : best->access_logging) {
    if (rule.match_mode == "SERVER") continue;
    policy.configured = true;
    policy.enabled = !rule.disabled;
    policy.needs_path = rule.providers.empty();
    policy.filter = rule.filter;
    policy.source = "Telemetry " + best->meta.namespace_ + "/" + best->meta.name;
    break;
  }
  return policy;
}

TracingPolicy select_tracing(const config::ObjectList<config::Telemetry>& telemetries,
                             const GatewayIdentity& identity) {
  const config::Telemetry* best = nullptr;
  int best_level = 0;
  for (const config::Telemetry& t : telemetries) {
    if (t.tracing.empty()) continue;
    const int level = specificity(t, identity);
    if (level > best_level) {
      best = &t;
      best_level = level;
    }
  }
  TracingPolicy policy;
  if (best == nullptr) return policy;
  for (const config::TracingRule& rule : best->tracing) {
    if (rule.match_mode == "SERVER") continue;
    policy.configured = true;
    if (rule.random_sampling_percentage) {
      // 0.01 % precision, as Istio rounds it.
      const double p = std::clamp(*rule.random_sampling_percentage, 0.0, 100.0);
      policy.sampling_basis_points = static_cast<int32_t>(std::lround(p * 100));
    }
    policy.disable_span_reporting = rule.disable_span_reporting;
    policy.source = "Telemetry " + best->meta.namespace_ + "/" + best->meta.name;
    break;
  }
  return policy;
}

}  // namespace torii::compile
