// Envoy rate limit rules and descriptors from an EnvoyFilter
// (config::RateLimitRuleConfig, RateLimitDescriptorConfig) -> the router's
// compiled forms (router/rate_limit_descriptors.h).
#pragma once

#include <string>
#include <vector>

#include "config/resources.h"
#include "router/rate_limit_descriptors.h"

namespace torii::compile {

// Header matchers become the router's (suffix and contains as RE2 regexes);
// unsupported action types stay, as Unsupported, so that their rule never
// produces a descriptor (validation has warned about them).
std::vector<router::RateLimitRule> compile_rate_limit_rules(
    const std::vector<config::RateLimitRuleConfig>& rules);

// The descriptors of a LocalRateLimit config, each with a bucket from the
// registry keyed under `key_prefix` (kept across reloads while unchanged).
std::vector<router::LimitDescriptor> compile_limit_descriptors(const config::LocalRateLimitConfig& config,
                                                               const std::string& key_prefix);

}  // namespace torii::compile
