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

uint32_t ef_per_million(const Field& percent) {
  if (!percent.expect_map()) return 0;
  const Field value = proto_field(percent, "default_value", "defaultValue");
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
    const Field action = proto_field(item, "append_action", "appendAction");
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
  out.stat_prefix = proto_field(value, "stat_prefix", "statPrefix").string();
  if (out.stat_prefix.empty())
    proto_field(value, "stat_prefix", "statPrefix").error("stat_prefix is required");
  const Field bucket = proto_field(value, "token_bucket", "tokenBucket");
  if (bucket.present() && bucket.expect_map()) {
    out.has_token_bucket = true;
    read_token_bucket(bucket, out.max_tokens, out.tokens_per_fill, out.fill_interval_ms);
  }
  out.enabled_per_million = ef_per_million(proto_field(value, "filter_enabled", "filterEnabled"));
  out.enforced_per_million = ef_per_million(proto_field(value, "filter_enforced", "filterEnforced"));
  const Field status = value["status"];
  if (status.expect_map()) {
    const uint32_t code = status["code"].present() ? status["code"].uint32() : 429;
    out.status = code < 400 ? 429 : code;  // Envoy: "values below 400 fall back to 429"
  }
  out.resource_exhausted =
      proto_field(value, "rate_limited_as_resource_exhausted", "rateLimitedAsResourceExhausted").boolean();
  out.per_connection = proto_field(value, "local_rate_limit_per_downstream_connection",
                                   "localRateLimitPerDownstreamConnection")
                           .boolean();
  const Field x_headers = proto_field(value, "enable_x_ratelimit_headers", "enableXRatelimitHeaders");
  if (x_headers.present()) {
    const std::string v = x_headers.upper_string();
    if (v == "DRAFT_VERSION_03") {
      out.x_ratelimit_headers = true;
    } else if (v != "OFF") {
      x_headers.error("unknown value '" + v + "', must be OFF or DRAFT_VERSION_03");
    }
  }
  out.descriptors = read_rate_limit_descriptors(value["descriptors"]);
  out.rate_limits = read_rate_limit_rules(proto_field(value, "rate_limits", "rateLimits"));
  if (const auto always =
          proto_field(value, "always_consume_default_token_bucket", "alwaysConsumeDefaultTokenBucket")
              .optional_boolean())
    out.always_consume_default_token_bucket = *always;
  const Field vh = proto_field(value, "vh_rate_limits", "vhRateLimits");
  if (vh.present()) {
    out.vh_rate_limits = vh.upper_string();
    if (out.vh_rate_limits != "OVERRIDE" && out.vh_rate_limits != "INCLUDE" && out.vh_rate_limits != "IGNORE")
      vh.error("unknown vh_rate_limits '" + out.vh_rate_limits + "', must be OVERRIDE, INCLUDE or IGNORE");
  }
  out.stage = value["stage"].uint32();
  const Field max_dynamic = proto_field(value, "max_dynamic_descriptors", "maxDynamicDescriptors");
  if (max_dynamic.present()) {
    out.max_dynamic_descriptors = max_dynamic.uint32();
    if (out.max_dynamic_descriptors == 0) max_dynamic.error("max_dynamic_descriptors must be at least 1");
  }
  out.response_headers_to_add =
      ef_headers_to_add(proto_field(value, "response_headers_to_add", "responseHeadersToAdd"));
  out.request_headers_to_add_when_not_enforced = ef_headers_to_add(
      proto_field(value, "request_headers_to_add_when_not_enforced", "requestHeadersToAddWhenNotEnforced"));
}

// A typed config naming the LocalRateLimit message, directly or wrapped in a
// TypedStruct (udpa.type.v1 or xds.type.v3, as Istio's docs write it).
std::optional<LocalRateLimitConfig> read_typed_rate_limit(const Field& typed, std::string& type_url) {
  if (!typed.expect_map()) return std::nullopt;
  const std::string type = typed["@type"].string();
  const bool wrapped = type == "type.googleapis.com/udpa.type.v1.TypedStruct" ||
                       type == "type.googleapis.com/xds.type.v3.TypedStruct";
  type_url = wrapped ? proto_field(typed, "type_url", "typeUrl").string() : type;
  if (type_url != kLocalRateLimitType) return std::nullopt;
  LocalRateLimitConfig config;
  read_local_rate_limit(wrapped ? typed["value"] : typed, config);
  return config;
}

void read_envoy_filter_patch(const Field& item, EnvoyFilterPatch& out) {
  out.apply_to = proto_field(item, "applyTo", "apply_to").upper_string();
  const Field match = item["match"];
  if (match.present() && match.expect_map()) {
    out.context = match["context"].present() ? match["context"].upper_string() : "ANY";
    const Field rc = proto_field(match, "routeConfiguration", "route_configuration");
    if (rc.present() && rc.expect_map()) {
      const Field port = proto_field(rc, "portNumber", "port_number");
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
      const Field chain = proto_field(listener, "filterChain", "filter_chain");
      if (chain.present() && chain.expect_map()) {
        const Field filter = chain["filter"];
        if (filter.present() && filter.expect_map()) {
          out.listener_filter = filter["name"].string();
          const Field sub = proto_field(filter, "subFilter", "sub_filter");
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
    const Field typed = proto_field(value, "typed_config", "typedConfig");
    if (!typed.present()) {
      typed.error("envoy.filters.http.local_ratelimit needs a typed_config");
      return;
    }
    out.rate_limit = read_typed_rate_limit(typed, out.type_url);
  } else if (out.apply_to == "HTTP_ROUTE" || out.apply_to == "VIRTUAL_HOST") {
    // The rate limit actions of a route (RouteAction.rate_limits) or virtual
    // host (VirtualHost.rate_limits): what builds a request's descriptors.
    const Field holder = out.apply_to == "HTTP_ROUTE" ? value["route"] : value;
    if (holder.present() && holder.node().IsMap()) {
      const Field rules = proto_field(holder, "rate_limits", "rateLimits");
      if (rules.present()) out.route_rate_limits = read_rate_limit_rules(rules);
      if (out.apply_to == "HTTP_ROUTE")
        out.include_vh_rate_limits =
            proto_field(holder, "include_vh_rate_limits", "includeVhRateLimits").boolean();
    }
    const Field per_filter = proto_field(value, "typed_per_filter_config", "typedPerFilterConfig");
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
  num(always_consume_default_token_bucket);
  num(max_dynamic_descriptors);
  return s;
}

void read_envoy_filter(const Field& spec, EnvoyFilter& out) {
  if (!spec.expect_map()) return;
  const Field selector = proto_field(spec, "workloadSelector", "workload_selector");
  if (selector.present() && selector.expect_map()) out.selector = selector["labels"].string_map();
  out.has_target_refs = spec["targetRefs"].present() || spec["targetRef"].present();
  out.priority = spec["priority"].int32();
  for (const Field& item : proto_field(spec, "configPatches", "config_patches").items()) {
    EnvoyFilterPatch patch;
    if (item.expect_map()) read_envoy_filter_patch(item, patch);
    out.patches.push_back(std::move(patch));
  }
}

}  // namespace torii::config
