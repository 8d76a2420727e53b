// EnvoyFilter: Torii acts on the local rate limit idiom only (docs/rate-limit.md).
// The rate limit config gets Envoy's own checks as errors (the object is then
// rejected and the last good config keeps serving); every other patch is a
// warning that it has no effect.
#include "config/validate.h"
#include "config/validate_common.h"

namespace torii::config {

namespace {

bool ef_gateway_context(const std::string& context) { return context == "ANY" || context == "GATEWAY"; }

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
  if (c.has_descriptors) {
    r.warning(
        field + ".descriptors",
        "descriptors/rate_limits are not supported by Torii: the token_bucket applies to every request");
  }
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
    if (!patch.rate_limit) {
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
