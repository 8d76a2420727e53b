// networking.istio.io EnvoyFilter: reads the match and patch of every
// configPatch, and the LocalRateLimit config when a patch carries one
// (an inserted envoy.filters.http.local_ratelimit, or its
// typed_per_filter_config on a route or virtual host). Everything else in a
// patch value is Envoy xDS that Torii does not model; validation reports such
// patches as having no effect.
#include "config/parsers.h"

namespace torii::config {

namespace {

constexpr std::string_view kFilterName = "envoy.filters.http.local_ratelimit";
constexpr std::string_view kLocalRateLimitType =
    "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

// Proto JSON: either spelling of a field name.
Field ef_field(const Field& map, std::string_view snake, std::string_view camel) {
  const Field f = map[snake];
  return f.present() ? f : map[camel];
}

uint32_t ef_per_million(const Field& percent) {
  if (!percent.expect_map()) return 0;
  const Field value = ef_field(percent, "default_value", "defaultValue");
  if (!value.expect_map()) return 0;
  const uint64_t numerator = value["numerator"].uint32();
  const std::string denominator =
      value["denominator"].present() ? value["denominator"].upper_string() : "HUNDRED";
  uint64_t scale = 10000;  // HUNDRED
  if (denominator == "TEN_THOUSAND") {
    scale = 100;
  } else if (denominator == "MILLION") {
    scale = 1;
  } else if (denominator != "HUNDRED") {
    value["denominator"].error("unknown denominator '" + denominator +
                               "', must be HUNDRED, TEN_THOUSAND or MILLION");
  }
  // Envoy caps a numerator above the denominator at 100 %.
  return static_cast<uint32_t>(std::min<uint64_t>(numerator * scale, 1000000));
}

std::vector<RateLimitHeader> ef_headers_to_add(const Field& list) {
  std::vector<RateLimitHeader> out;
  for (const Field& item : list.items()) {
    if (!item.expect_map()) continue;
    RateLimitHeader h;
    const Field header = item["header"];
    if (header.expect_map()) {
      h.key = header["key"].string();
      h.value = header["value"].string();
      if (h.key.empty()) header["key"].error("a header key is required");
    }
    if (const auto append = item["append"].optional_boolean()) h.append = *append;
    const Field action = ef_field(item, "append_action", "appendAction");
    if (action.present()) {
      const std::string a = action.upper_string();
      if (a == "OVERWRITE_IF_EXISTS_OR_ADD" || a == "OVERWRITE_IF_EXISTS") {
        h.append = false;
      } else if (a != "APPEND_IF_EXISTS_OR_ADD" && a != "ADD_IF_ABSENT") {
        action.error("unknown append_action '" + a + "'");
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

void read_local_rate_limit(const Field& value, LocalRateLimitConfig& out) {
  if (!value.expect_map()) return;
  out.stat_prefix = ef_field(value, "stat_prefix", "statPrefix").string();
  if (out.stat_prefix.empty()) ef_field(value, "stat_prefix", "statPrefix").error("stat_prefix is required");
  const Field bucket = ef_field(value, "token_bucket", "tokenBucket");
  if (bucket.present() && bucket.expect_map()) {
    out.has_token_bucket = true;
    const Field max_tokens = ef_field(bucket, "max_tokens", "maxTokens");
    out.max_tokens = max_tokens.uint32();
    if (out.max_tokens == 0) max_tokens.error("max_tokens must be at least 1");
    const Field per_fill = ef_field(bucket, "tokens_per_fill", "tokensPerFill");
    if (per_fill.present()) {
      out.tokens_per_fill = per_fill.uint32();
      if (out.tokens_per_fill == 0) per_fill.error("tokens_per_fill must be at least 1");
    }
    const Field interval = ef_field(bucket, "fill_interval", "fillInterval");
    if (!interval.present()) {
      interval.error("fill_interval is required");
    } else {
      out.fill_interval_ms = interval.duration_ms();
      // Envoy's LocalRateLimiterImpl: "local rate limit token bucket fill timer must be >= 50ms".
      if (out.fill_interval_ms >= 0 && out.fill_interval_ms < 50)
        interval.error("fill_interval must be at least 50ms (Envoy's limit)");
    }
  }
  out.enabled_per_million = ef_per_million(ef_field(value, "filter_enabled", "filterEnabled"));
  out.enforced_per_million = ef_per_million(ef_field(value, "filter_enforced", "filterEnforced"));
  const Field status = value["status"];
  if (status.expect_map()) {
    const uint32_t code = status["code"].present() ? status["code"].uint32() : 429;
    out.status = code < 400 ? 429 : code;  // Envoy: "values below 400 fall back to 429"
  }
  out.resource_exhausted =
      ef_field(value, "rate_limited_as_resource_exhausted", "rateLimitedAsResourceExhausted").boolean();
  out.per_connection =
      ef_field(value, "local_rate_limit_per_downstream_connection", "localRateLimitPerDownstreamConnection")
          .boolean();
  const Field x_headers = ef_field(value, "enable_x_ratelimit_headers", "enableXRatelimitHeaders");
  if (x_headers.present()) {
    const std::string v = x_headers.upper_string();
    if (v == "DRAFT_VERSION_03") {
      out.x_ratelimit_headers = true;
    } else if (v != "OFF") {
      x_headers.error("unknown value '" + v + "', must be OFF or DRAFT_VERSION_03");
    }
  }
  out.has_descriptors =
      value["descriptors"].present() || ef_field(value, "rate_limits", "rateLimits").present();
  out.response_headers_to_add =
      ef_headers_to_add(ef_field(value, "response_headers_to_add", "responseHeadersToAdd"));
  out.request_headers_to_add_when_not_enforced = ef_headers_to_add(
      ef_field(value, "request_headers_to_add_when_not_enforced", "requestHeadersToAddWhenNotEnforced"));
}

// A typed config naming the LocalRateLimit message, directly or wrapped in a
// TypedStruct (udpa.type.v1 or xds.type.v3, as Istio's docs write it).
std::optional<LocalRateLimitConfig> read_typed_rate_limit(const Field& typed, std::string& type_url) {
  if (!typed.expect_map()) return std::nullopt;
  const std::string type = typed["@type"].string();
  const bool wrapped = type == "type.googleapis.com/udpa.type.v1.TypedStruct" ||
                       type == "type.googleapis.com/xds.type.v3.TypedStruct";
  type_url = wrapped ? ef_field(typed, "type_url", "typeUrl").string() : type;
  if (type_url != kLocalRateLimitType) return std::nullopt;
  LocalRateLimitConfig config;
  read_local_rate_limit(wrapped ? typed["value"] : typed, config);
  return config;
}

void read_envoy_filter_patch(const Field& item, EnvoyFilterPatch& out) {
  out.apply_to = ef_field(item, "applyTo", "apply_to").upper_string();
  const Field match = item["match"];
  if (match.present() && match.expect_map()) {
    out.context = match["context"].present() ? match["context"].upper_string() : "ANY";
    const Field rc = ef_field(match, "routeConfiguration", "route_configuration");
    if (rc.present() && rc.expect_map()) {
      const Field port = ef_field(rc, "portNumber", "port_number");
      if (port.present()) out.port_number = port.uint32();
      out.route_config_name = rc["name"].string();
      const Field vhost = rc["vhost"];
      if (vhost.present() && vhost.expect_map()) {
        out.vhost_name = vhost["name"].string();
        const Field route = vhost["route"];
        if (route.present() && route.expect_map()) {
          out.route_name = route["name"].string();
          out.route_action = route["action"].present() ? route["action"].upper_string() : "ANY";
        }
      }
    }
    const Field listener = match["listener"];
    if (listener.present() && listener.expect_map()) {
      const Field chain = ef_field(listener, "filterChain", "filter_chain");
      if (chain.present() && chain.expect_map()) {
        const Field filter = chain["filter"];
        if (filter.present() && filter.expect_map()) {
          out.listener_filter = filter["name"].string();
          const Field sub = ef_field(filter, "subFilter", "sub_filter");
          if (sub.present() && sub.expect_map()) out.sub_filter = sub["name"].string();
        }
      }
    }
  } else {
    out.context = "ANY";
  }
  const Field patch = item["patch"];
  if (!patch.expect_map()) return;
  out.operation = patch["operation"].upper_string();
  const Field value = patch["value"];
  if (!value.present() || !value.node().IsMap()) return;
  if (out.apply_to == "HTTP_FILTER") {
    out.filter_name = value["name"].string();
    if (out.filter_name != kFilterName) return;
    const Field typed = ef_field(value, "typed_config", "typedConfig");
    if (!typed.present()) {
      typed.error("envoy.filters.http.local_ratelimit needs a typed_config");
      return;
    }
    out.rate_limit = read_typed_rate_limit(typed, out.type_url);
  } else if (out.apply_to == "HTTP_ROUTE" || out.apply_to == "VIRTUAL_HOST") {
    const Field per_filter = ef_field(value, "typed_per_filter_config", "typedPerFilterConfig");
    if (!per_filter.present() || !per_filter.node().IsMap()) return;
    const Field typed = per_filter[kFilterName];
    if (!typed.present()) return;
    out.filter_name = std::string(kFilterName);
    out.rate_limit = read_typed_rate_limit(typed, out.type_url);
  }
}

}  // namespace

std::string LocalRateLimitConfig::identity() const {
  std::string s = stat_prefix;
  auto num = [&](uint64_t v) {
    s += '|';
    s += std::to_string(v);
  };
  num(has_token_bucket);
  num(max_tokens);
  num(tokens_per_fill);
  num(static_cast<uint64_t>(fill_interval_ms));
  num(per_connection);
  return s;
}

void read_envoy_filter(const Field& spec, EnvoyFilter& out) {
  if (!spec.expect_map()) return;
  const Field selector = ef_field(spec, "workloadSelector", "workload_selector");
  if (selector.present() && selector.expect_map()) out.selector = selector["labels"].string_map();
  out.has_target_refs = spec["targetRefs"].present() || spec["targetRef"].present();
  out.priority = spec["priority"].int32();
  for (const Field& item : ef_field(spec, "configPatches", "config_patches").items()) {
    EnvoyFilterPatch patch;
    if (item.expect_map()) read_envoy_filter_patch(item, patch);
    out.patches.push_back(std::move(patch));
  }
}

}  // namespace torii::config
