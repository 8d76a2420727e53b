// The parts of Envoy's rate limit API that the local rate limit filter reads
// beyond its token bucket: route.v3.RateLimit rules (the actions that build a
// request's descriptors) and common.ratelimit.v3.LocalRateLimitDescriptor
// (the descriptors a config limits, each with its own bucket). Proto JSON:
// both spellings of a field name are accepted.
#include <algorithm>

#include "config/parsers.h"

namespace torii::config {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// type.matcher.v3.StringMatcher: exactly one of exact, prefix, suffix,
// contains, safe_regex {regex}; ignore_case.
void read_string_matcher(const Field& f, RateLimitHeaderMatcher& out) {
  if (!f.expect_map()) return;
  int forms = 0;
  auto form = [&](std::string_view key, RateLimitHeaderMatcher::Kind kind) {
    const Field v = f[key];
    if (!v.present()) return;
    ++forms;
    out.kind = kind;
    out.value = v.string();
  };
  form("exact", RateLimitHeaderMatcher::Kind::Exact);
  form("prefix", RateLimitHeaderMatcher::Kind::Prefix);
  form("suffix", RateLimitHeaderMatcher::Kind::Suffix);
  form("contains", RateLimitHeaderMatcher::Kind::Contains);
  const Field regex = proto_field(f, "safe_regex", "safeRegex");
  if (regex.present() && regex.expect_map()) {
    ++forms;
    out.kind = RateLimitHeaderMatcher::Kind::Regex;
    out.value = regex["regex"].string();
  }
  if (forms != 1)
    f.error("a string matcher needs exactly one of exact, prefix, suffix, contains, safe_regex");
  out.ignore_case = proto_field(f, "ignore_case", "ignoreCase").boolean();
}

// config.route.v3.HeaderMatcher.
RateLimitHeaderMatcher read_header_matcher(const Field& f) {
  RateLimitHeaderMatcher out;
  if (!f.expect_map()) return out;
  out.name = lower(f["name"].string());
  if (out.name.empty()) f["name"].error("a header matcher needs a name");
  int forms = 0;
  auto form = [&](std::string_view snake, std::string_view camel, RateLimitHeaderMatcher::Kind kind) {
    const Field v = proto_field(f, snake, camel);
    if (!v.present()) return;
    ++forms;
    out.kind = kind;
    out.value = v.string();
  };
  form("exact_match", "exactMatch", RateLimitHeaderMatcher::Kind::Exact);
  form("prefix_match", "prefixMatch", RateLimitHeaderMatcher::Kind::Prefix);
  form("suffix_match", "suffixMatch", RateLimitHeaderMatcher::Kind::Suffix);
  form("contains_match", "containsMatch", RateLimitHeaderMatcher::Kind::Contains);
  const Field regex = proto_field(f, "safe_regex_match", "safeRegexMatch");
  if (regex.present() && regex.expect_map()) {
    ++forms;
    out.kind = RateLimitHeaderMatcher::Kind::Regex;
    out.value = regex["regex"].string();
  }
  const Field present = proto_field(f, "present_match", "presentMatch");
  if (present.present()) {
    ++forms;
    out.kind = RateLimitHeaderMatcher::Kind::Present;
    out.present = present.boolean();
  }
  const Field string_match = proto_field(f, "string_match", "stringMatch");
  if (string_match.present()) {
    ++forms;
    read_string_matcher(string_match, out);
  }
  if (proto_field(f, "range_match", "rangeMatch").present()) {
    ++forms;
    proto_field(f, "range_match", "rangeMatch").error("range_match is not supported by Torii");
  }
  if (forms > 1) f.error("a header matcher takes one match form");
  // No form at all: Envoy matches on presence.
  out.invert = proto_field(f, "invert_match", "invertMatch").boolean();
  out.treat_missing_as_empty =
      proto_field(f, "treat_missing_header_as_empty", "treatMissingHeaderAsEmpty").boolean();
  return out;
}

// config.route.v3.QueryParameterMatcher: name, string_match or present_match.
RateLimitHeaderMatcher read_query_matcher(const Field& f) {
  RateLimitHeaderMatcher out;
  if (!f.expect_map()) return out;
  out.name = f["name"].string();
  if (out.name.empty()) f["name"].error("a query parameter matcher needs a name");
  const Field string_match = proto_field(f, "string_match", "stringMatch");
  if (string_match.present()) {
    read_string_matcher(string_match, out);
  } else {
    const Field present = proto_field(f, "present_match", "presentMatch");
    if (present.present() && !present.boolean()) present.error("present_match must be true");
  }
  return out;
}

RateLimitActionConfig read_action(const Field& f) {
  RateLimitActionConfig out;
  if (!f.expect_map()) return out;
  const auto entries = f.entries();
  if (entries.size() != 1) {
    f.error("a rate limit action takes exactly one action type");
    if (entries.empty()) return out;
  }
  const auto& [name, body] = entries.front();
  // Proto JSON: camelCase names are the same actions.
  std::string type;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      type += '_';
      type += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      type += c;
    }
  }
  out.type = type;
  auto key = [&](const char* fallback) {
    const Field k = proto_field(body, "descriptor_key", "descriptorKey");
    out.descriptor_key = k.present() ? k.string() : std::string(fallback);
  };
  if (type == "request_headers") {
    if (!body.expect_map()) return out;
    out.header_name = lower(proto_field(body, "header_name", "headerName").string());
    out.descriptor_key = proto_field(body, "descriptor_key", "descriptorKey").string();
    out.skip_if_absent = proto_field(body, "skip_if_absent", "skipIfAbsent").boolean();
    if (out.header_name.empty()) body.error("request_headers needs a header_name");
    if (out.descriptor_key.empty()) body.error("request_headers needs a descriptor_key");
  } else if (type == "remote_address") {
    out.descriptor_key = "remote_address";
  } else if (type == "masked_remote_address") {
    out.descriptor_key = "masked_remote_address";
    if (body.present() && body.expect_map()) {
      const Field v4 = proto_field(body, "v4_prefix_mask_len", "v4PrefixMaskLen");
      const Field v6 = proto_field(body, "v6_prefix_mask_len", "v6PrefixMaskLen");
      if (v4.present()) out.v4_prefix_len = v4.uint32();
      if (v6.present()) out.v6_prefix_len = v6.uint32();
      if (out.v4_prefix_len > 32) v4.error("v4_prefix_mask_len must be at most 32");
      if (out.v6_prefix_len > 128) v6.error("v6_prefix_mask_len must be at most 128");
    }
  } else if (type == "generic_key") {
    if (!body.expect_map()) return out;
    key("generic_key");
    out.descriptor_value = proto_field(body, "descriptor_value", "descriptorValue").string();
    if (out.descriptor_value.empty()) body.error("generic_key needs a descriptor_value");
  } else if (type == "header_value_match" || type == "query_parameter_value_match") {
    if (!body.expect_map()) return out;
    key(type == "header_value_match" ? "header_match" : "query_match");
    out.descriptor_value = proto_field(body, "descriptor_value", "descriptorValue").string();
    if (out.descriptor_value.empty()) body.error(type + " needs a descriptor_value");
    // google.protobuf.BoolValue, default true.
    if (const auto expect = proto_field(body, "expect_match", "expectMatch").optional_boolean())
      out.expect_match = *expect;
    if (type == "header_value_match") {
      for (const Field& h : body["headers"].items()) out.headers.push_back(read_header_matcher(h));
      if (out.headers.empty()) body["headers"].error("header_value_match needs at least one header matcher");
    } else {
      for (const Field& q : proto_field(body, "query_parameters", "queryParameters").items())
        out.query_parameters.push_back(read_query_matcher(q));
      if (out.query_parameters.empty())
        body["query_parameters"].error(
            "query_parameter_value_match needs at least one query parameter matcher");
    }
  }
  // Other types (destination_cluster, source_cluster, metadata, extension,
  // ...) are kept by name: validation reports them as unsupported.
  return out;
}

}  // namespace

Field proto_field(const Field& map, std::string_view snake, std::string_view camel) {
  const Field f = map[snake];
  return f.present() ? f : map[camel];
}

void read_token_bucket(const Field& bucket, uint64_t& max_tokens, uint64_t& tokens_per_fill,
                       int64_t& fill_interval_ms) {
  const Field max = proto_field(bucket, "max_tokens", "maxTokens");
  max_tokens = max.uint32();
  if (max_tokens == 0) max.error("max_tokens must be at least 1");
  const Field per_fill = proto_field(bucket, "tokens_per_fill", "tokensPerFill");
  if (per_fill.present()) {
    tokens_per_fill = per_fill.uint32();
    if (tokens_per_fill == 0) per_fill.error("tokens_per_fill must be at least 1");
  }
  const Field interval = proto_field(bucket, "fill_interval", "fillInterval");
  if (!interval.present()) {
    interval.error("fill_interval is required");
    return;
  }
  fill_interval_ms = interval.duration_ms();
  // Envoy's LocalRateLimiterImpl: "local rate limit token bucket fill timer must be >= 50ms".
  if (fill_interval_ms >= 0 && fill_interval_ms < 50)
    interval.error("fill_interval must be at least 50ms (Envoy's limit)");
}

std::vector<RateLimitRuleConfig> read_rate_limit_rules(const Field& list) {
  std::vector<RateLimitRuleConfig> out;
  for (const Field& item : list.items()) {
    RateLimitRuleConfig rule;
    if (item.expect_map()) {
      rule.stage = item["stage"].uint32();
      rule.disable_key = proto_field(item, "disable_key", "disableKey").string();
      rule.has_limit = item["limit"].present();
      for (const Field& a : item["actions"].items()) rule.actions.push_back(read_action(a));
      if (rule.actions.empty()) item["actions"].error("a rate limit needs at least one action");
    }
    out.push_back(std::move(rule));
  }
  return out;
}

std::vector<RateLimitDescriptorConfig> read_rate_limit_descriptors(const Field& list) {
  std::vector<RateLimitDescriptorConfig> out;
  for (const Field& item : list.items()) {
    RateLimitDescriptorConfig d;
    if (item.expect_map()) {
      for (const Field& e : item["entries"].items()) {
        if (!e.expect_map()) continue;
        const std::string key = e["key"].string();
        if (key.empty()) e["key"].error("a descriptor entry needs a key");
        d.entries.emplace_back(key, e["value"].string());
      }
      if (d.entries.empty()) item["entries"].error("a descriptor needs at least one entry");
      const Field bucket = proto_field(item, "token_bucket", "tokenBucket");
      if (bucket.present() && bucket.expect_map()) {
        d.has_token_bucket = true;
        read_token_bucket(bucket, d.max_tokens, d.tokens_per_fill, d.fill_interval_ms);
      } else {
        bucket.error("a descriptor needs a token_bucket");
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace torii::config
