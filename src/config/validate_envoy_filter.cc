// EnvoyFilter: Torii acts on the local rate limit idiom only (docs/rate-limit.md).
// The rate limit config gets Envoy's own checks as errors (the object is then
// rejected and the last good config keeps serving); every other patch is a
// warning that it has no effect.
#include <algorithm>

#include "config/validate.h"
#include "config/validate_common.h"

namespace torii::config {

namespace {

bool ef_gateway_context(const std::string& context) { return context == "ANY" || context == "GATEWAY"; }

// Rate limit rules (route.v3.RateLimit): what Torii cannot build is said
// once per rule; such a rule produces no descriptor, as in Envoy when an
// action has nothing to contribute.
void ef_check_rules(Report& r, const std::string& field, const std::vector<RateLimitRuleConfig>& rules) {
  static constexpr std::string_view kSupported[] = {"request_headers",       "remote_address",
                                                    "masked_remote_address", "generic_key",
                                                    "header_value_match",    "query_parameter_value_match"};
  for (size_t i = 0; i < rules.size(); ++i) {
    const RateLimitRuleConfig& rule = rules[i];
    const std::string at_rule = at(field, i);
    if (!rule.disable_key.empty())
      r.warning(at_rule + ".disable_key",
                "Envoy's local rate limit skips a rule with a disable_key: no effect");
    if (rule.has_limit)
      r.warning(at_rule + ".limit",
                "limit overrides come from dynamic metadata, which Torii has not: ignored");
    for (size_t j = 0; j < rule.actions.size(); ++j) {
      const RateLimitActionConfig& action = rule.actions[j];
      const std::string& type = action.type;
      if (type.empty()) continue;  // already an error
      // A regex that does not compile would never match: refused, as Envoy refuses the config.
      for (const auto* list : {&action.headers, &action.query_parameters}) {
        const char* name = list == &action.headers ? ".headers" : ".query_parameters";
        for (size_t k = 0; k < list->size(); ++k) {
          if ((*list)[k].kind == RateLimitHeaderMatcher::Kind::Regex)
            r.error_unless_empty(at(at(at_rule + ".actions", j) + "." + type + name, k),
                                 check_regex((*list)[k].value));
        }
      }
      if (std::find(std::begin(kSupported), std::end(kSupported), type) == std::end(kSupported)) {
        r.warning(
            at(at_rule + ".actions", j),
            "action " + type + " is not supported by Torii: this rate limit never produces a descriptor");
      }
    }
  }
}

void ef_check_rate_limit(Report& r, const std::string& field, const EnvoyFilterPatch& patch) {
  const LocalRateLimitConfig& c = *patch.rate_limit;
  const bool per_route = patch.apply_to != "HTTP_FILTER";
  // Envoy: "local rate limit token bucket must be set for per filter configs".
  if (per_route && !c.has_token_bucket)
    r.error(field + ".token_bucket", "a per-route/per-vhost local rate limit needs a token_bucket");
  if (c.per_connection) {
    r.error(
        field + ".local_rate_limit_per_downstream_connection",
        "per-connection buckets are not supported by Torii (its buckets are shared by the whole process)");
  }
  for (size_t i = 0; i < c.descriptors.size(); ++i) {
    const RateLimitDescriptorConfig& d = c.descriptors[i];
    const std::string at_d = at(field + ".descriptors", i);
    // LocalRateLimiterImpl: "local rate descriptor limit is not a multiple of token bucket fill timer".
    if (c.has_token_bucket && c.fill_interval_ms > 0 && d.fill_interval_ms > 0 &&
        d.fill_interval_ms % c.fill_interval_ms != 0) {
      r.error(at_d + ".token_bucket.fill_interval",
              "a descriptor's fill_interval must be a multiple of the token_bucket's (Envoy's rule)");
    }
    for (size_t j = 0; j < i; ++j) {
      if (c.descriptors[j].entries == d.entries) {
        r.error(at_d + ".entries",
                "duplicate descriptor: the same entries as descriptors[" + std::to_string(j) + "]");
        break;
      }
    }
  }
  if (!c.rate_limits.empty() && c.descriptors.empty()) {
    r.warning(field + ".rate_limits",
              "rate_limits without descriptors have no effect: nothing to limit them by");
  }
  ef_check_rules(r, field + ".rate_limits", c.rate_limits);
}

}  // namespace

Diagnostics validate(const EnvoyFilter& envoy_filter, const FieldLines& lines) {
  Report r("EnvoyFilter", envoy_filter.meta, lines);
  if (envoy_filter.has_target_refs) {
    r.warning("spec.targetRefs",
              "targetRefs attach to Gateway API gateways, which Torii does not serve; "
              "this EnvoyFilter has no effect, use workloadSelector");
  }
  std::string ignored;  // "configPatches[i] (applyTo X)", for the one notice
  for (size_t i = 0; i < envoy_filter.patches.size(); ++i) {
    const EnvoyFilterPatch& patch = envoy_filter.patches[i];
    const std::string field = at("spec.configPatches", i);
    const bool rate_limit_filter = patch.filter_name == "envoy.filters.http.local_ratelimit";
    if (rate_limit_filter && !patch.rate_limit) {
      r.error(field + ".patch.value",
              "envoy.filters.http.local_ratelimit needs a typed_config of type "
              "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit (directly or in a "
              "udpa.type.v1.TypedStruct), got '" +
                  patch.type_url + "'");
      continue;
    }
    if (patch.route_rate_limits) {
      const std::string rules_field =
          field +
          (patch.apply_to == "HTTP_ROUTE" ? ".patch.value.route.rate_limits" : ".patch.value.rate_limits");
      if (!ef_gateway_context(patch.context)) {
        r.warning(field + ".match.context",
                  "context " + patch.context + " does not apply to a gateway; this patch has no effect");
        continue;
      }
      if (patch.operation != "MERGE") {
        r.warning(field + ".patch.operation",
                  "rate_limits are added with MERGE; operation " + patch.operation + " has no effect");
        continue;
      }
      ef_check_rules(r, rules_field, *patch.route_rate_limits);
    }
    if (!patch.rate_limit) {
      if (patch.route_rate_limits) continue;
      if (!ignored.empty()) ignored += ", ";
      ignored += field + " (applyTo " + (patch.apply_to.empty() ? std::string("?") : patch.apply_to) + ")";
      continue;
    }
    if (!ef_gateway_context(patch.context)) {
      r.warning(field + ".match.context",
                "context " + patch.context + " does not apply to a gateway; this patch has no effect");
      continue;
    }
    const std::string value = patch.apply_to == "HTTP_FILTER"
                                  ? field + ".patch.value.typed_config"
                                  : field + ".patch.value.typed_per_filter_config";
    ef_check_rate_limit(r, value, patch);
    if (patch.apply_to == "HTTP_FILTER") {
      const std::string& op = patch.operation;
      if (op != "INSERT_BEFORE" && op != "INSERT_FIRST" && op != "INSERT_AFTER" && op != "ADD") {
        r.warning(field + ".patch.operation",
                  "operation " + op + " does not insert a filter; this patch has no effect");
      }
      if (!patch.listener_filter.empty() &&
          patch.listener_filter != "envoy.filters.network.http_connection_manager" &&
          patch.listener_filter != "envoy.http_connection_manager") {
        r.warning(field + ".match.listener.filterChain.filter.name",
                  "only the HTTP connection manager has HTTP filters; this patch has no effect");
      }
    } else if (patch.operation != "MERGE") {
      r.warning(field + ".patch.operation", "typed_per_filter_config is added with MERGE; operation " +
                                                patch.operation + " has no effect");
    }
  }
  if (!ignored.empty()) {
    r.warning(
        "spec.configPatches",
        "Torii applies only envoy.filters.http.local_ratelimit patches (docs/rate-limit.md); these have "
        "no effect: " +
            ignored);
  }
  return r.take();
}

}  // namespace torii::config
