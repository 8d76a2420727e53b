#include "explain/route_policies_json.h"

namespace torii::explain {

using nlohmann::json;

namespace {

json percent(uint32_t per_million) { return static_cast<double>(per_million) / 10000.0; }

}  // namespace

json route_policies_json(const router::RoutePolicies& p) {
  json out = json::object();
  out["timeout_ms"] = p.timeout_ms;  // 0 = none
  if (p.retry.enabled()) {
    json r = {{"num_retries", p.retry.num_retries},
              {"retry_on", router::retry_on_string(p.retry)},
              {"backoff_base_ms", p.retry.base_interval_ms},
              {"backoff_max_ms", p.retry.max_interval_ms},
              {"previous_hosts", p.retry.avoid_previous_hosts}};
    if (!p.retry.retriable_status_codes.empty()) r["retriable_status_codes"] = p.retry.retriable_status_codes;
    if (p.retry.per_try_timeout_ms != 0) r["per_try_timeout_ms"] = p.retry.per_try_timeout_ms;
    if (p.retry.retry_remote_localities) r["retry_remote_localities"] = true;
    out["retries"] = r;
  } else {
    out["retries"] = nullptr;
  }
  if (p.fault) {
    json f = json::object();
    if (p.fault->has_delay)
      f["delay"] = {{"fixed_delay_ms", p.fault->delay_ms},
                    {"percentage", percent(p.fault->delay_per_million)}};
    if (p.fault->has_abort) {
      json a = {{"http_status", p.fault->http_status}, {"percentage", percent(p.fault->abort_per_million)}};
      if (p.fault->grpc_status) a["grpc_status"] = *p.fault->grpc_status;
      f["abort"] = a;
    }
    out["fault"] = f;
  }
  for (const router::MirrorPolicy& m : p.mirrors) {
    out["mirrors"].push_back({{"cluster", m.cluster_name},
                              {"exists", m.cluster != nullptr},
                              {"percentage", percent(m.per_million)}});
  }
  if (p.cors) {
    json origins = json::array();
    for (const router::StringMatcher& o : p.cors->allow_origins) {
      const char* kind = o.kind == router::StringMatcher::Kind::Exact    ? "exact"
                         : o.kind == router::StringMatcher::Kind::Prefix ? "prefix"
                                                                         : "regex";
      origins.push_back({{kind, o.value}});
    }
    out["cors"] = {{"allow_origins", origins},
                   {"allow_methods", p.cors->allow_methods},
                   {"allow_headers", p.cors->allow_headers},
                   {"expose_headers", p.cors->expose_headers},
                   {"max_age", p.cors->max_age},
                   {"allow_credentials", p.cors->allow_credentials},
                   {"forward_not_matching_preflights", p.cors->forward_not_matching_preflights}};
  }
  return out;
}

}  // namespace torii::explain
