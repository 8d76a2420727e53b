#include "compile/rate_limit_rules.h"

#include <re2/re2.h>

#include "router/local_rate_limit.h"

namespace torii::compile {

namespace {

using Kind = config::RateLimitHeaderMatcher::Kind;

router::StringMatcher string_matcher(const config::RateLimitHeaderMatcher& in) {
  router::StringMatcher out;
  out.ignore_case = in.ignore_case;
  std::string pattern;
  switch (in.kind) {
    case Kind::Exact:
      out.kind = router::StringMatcher::Kind::Exact;
      out.value = in.value;
      return out;
    case Kind::Prefix:
      out.kind = router::StringMatcher::Kind::Prefix;
      out.value = in.value;
      return out;
    case Kind::Present:
      out.kind = router::StringMatcher::Kind::Presence;
      return out;
    case Kind::Suffix:
      pattern = ".*" + re2::RE2::QuoteMeta(in.value);
      break;
    case Kind::Contains:
      pattern = ".*" + re2::RE2::QuoteMeta(in.value) + ".*";
      break;
    case Kind::Regex:
      pattern = in.value;
      break;
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(!in.ignore_case);
  out.kind = router::StringMatcher::Kind::Regex;
  out.value = in.value;
  out.regex = std::make_shared<re2::RE2>(pattern, options);
  // A regex that does not compile never matches (RE2 FullMatch on a bad
  // pattern is false), as a route with a bad regex is dropped.
  return out;
}

router::HeaderMatcher header_matcher(const config::RateLimitHeaderMatcher& in) {
  router::HeaderMatcher out;
  out.name = in.name;
  out.source = router::header_source(in.name);
  out.value = string_matcher(in);
  // present_match: false matches an absent header: an inverted presence test.
  out.invert = in.invert != (in.kind == Kind::Present && !in.present);
  out.treat_missing_as_empty = in.treat_missing_as_empty;
  return out;
}

router::RateLimitAction action_of(const config::RateLimitActionConfig& in) {
  using A = router::RateLimitAction::Kind;
  router::RateLimitAction out;
  out.key = in.descriptor_key;
  out.value = in.descriptor_value;
  if (in.type == "request_headers") {
    out.kind = A::RequestHeader;
    out.header_name = in.header_name;
    out.source = router::header_source(in.header_name);
    out.skip_if_absent = in.skip_if_absent;
  } else if (in.type == "remote_address") {
    out.kind = A::RemoteAddress;
  } else if (in.type == "masked_remote_address") {
    out.kind = A::MaskedRemoteAddress;
    out.v4_prefix_len = static_cast<uint8_t>(std::min<uint32_t>(in.v4_prefix_len, 32));
    out.v6_prefix_len = static_cast<uint8_t>(std::min<uint32_t>(in.v6_prefix_len, 128));
  } else if (in.type == "generic_key") {
    out.kind = A::GenericKey;
  } else if (in.type == "header_value_match") {
    out.kind = A::HeaderValueMatch;
    out.expect_match = in.expect_match;
    for (const config::RateLimitHeaderMatcher& h : in.headers) out.headers.push_back(header_matcher(h));
  } else if (in.type == "query_parameter_value_match") {
    out.kind = A::QueryValueMatch;
    out.expect_match = in.expect_match;
    for (const config::RateLimitHeaderMatcher& q : in.query_parameters)
      out.query.push_back(router::QueryParamMatcher{q.name, string_matcher(q)});
  }
  return out;
}

}  // namespace

std::vector<router::RateLimitRule> compile_rate_limit_rules(
    const std::vector<config::RateLimitRuleConfig>& rules) {
  std::vector<router::RateLimitRule> out;
  for (const config::RateLimitRuleConfig& rule : rules) {
    // Envoy's local filter skips a rule with a disable_key (there is no runtime to enable it).
    if (!rule.disable_key.empty()) continue;
    router::RateLimitRule compiled;
    compiled.stage = rule.stage;
    for (const config::RateLimitActionConfig& a : rule.actions) compiled.actions.push_back(action_of(a));
    out.push_back(std::move(compiled));
  }
  return out;
}

std::vector<router::LimitDescriptor> compile_limit_descriptors(const config::LocalRateLimitConfig& config,
                                                               const std::string& key_prefix) {
  router::LocalRateLimitRegistry& registry = router::rate_limit_registry();
  std::vector<router::LimitDescriptor> out;
  for (const config::RateLimitDescriptorConfig& d : config.descriptors) {
    if (!d.has_token_bucket || d.max_tokens == 0 || d.fill_interval_ms <= 0) continue;
    router::LimitDescriptor ld;
    ld.entries = d.entries;
    std::string key = key_prefix + "|descriptor";
    for (const auto& [k, v] : d.entries) {
      ld.wildcard = ld.wildcard || v.empty();
      key += "|" + k + "=" + v;
    }
    key += "|" + std::to_string(d.max_tokens) + "|" + std::to_string(d.tokens_per_fill) + "|" +
           std::to_string(d.fill_interval_ms);
    ld.fill_rate = static_cast<double>(d.tokens_per_fill) * 1000.0 / static_cast<double>(d.fill_interval_ms);
    const int64_t interval_ns = d.fill_interval_ms * 1000000;
    if (ld.wildcard) {
      ld.dynamic = registry.dynamic(key + "|" + std::to_string(config.max_dynamic_descriptors), d.max_tokens,
                                    d.tokens_per_fill, interval_ns, config.max_dynamic_descriptors);
    } else {
      ld.bucket = registry.bucket(key, d.max_tokens, d.tokens_per_fill, interval_ns);
    }
    out.push_back(std::move(ld));
  }
  return out;
}

}  // namespace torii::compile
