// Envoy's HTTP local rate limit filter (envoy.filters.http.local_ratelimit)
// as compiled from an EnvoyFilter: one LocalRateLimit per config in force
// (the gateway-wide filter, and each per-vhost / per-route config), each
// with its own process-wide TokenBucket.
//
// Buckets and counters live in a registry outside the snapshot
// (rate_limit_registry()): a reload that leaves a limit unchanged gets the
// same bucket back, so it does not refill; a changed limit gets a new, full
// bucket, as Envoy does when it rebuilds the filter config.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "http/header_map.h"
#include "router/rate_limit_descriptors.h"
#include "router/token_bucket.h"

namespace torii::router {

// <stat_prefix>.http_local_rate_limit.{enabled,enforced,rate_limited,ok}
// (Envoy's names). Shared by every config with the same stat_prefix, as
// Envoy's stats of one scope are; updated by all workers.
struct LocalRateLimitCounters {
  std::atomic<uint64_t> enabled{0};
  std::atomic<uint64_t> enforced{0};
  std::atomic<uint64_t> rate_limited{0};
  std::atomic<uint64_t> ok{0};
};

struct LocalRateLimit {
  std::string stat_prefix;
  uint32_t enabled_per_million = 0;   // filter_enabled (absent: 0 %, the filter does nothing)
  uint32_t enforced_per_million = 0;  // filter_enforced (absent: 0 %, count only)
  int status = 429;
  int grpc_status = -1;  // 8 RESOURCE_EXHAUSTED with rate_limited_as_resource_exhausted, else mapped
  http::HeaderMap response_headers_to_add;  // on the 429, built once at compile time
  struct RequestHeader {
    std::string key;
    std::string value;
    bool append = true;
  };
  // Added to a request that was limited but not enforced, before it goes on.
  std::vector<RequestHeader> request_headers_when_not_enforced;
  bool x_ratelimit_headers = false;
  std::shared_ptr<TokenBucket> bucket;  // null: no token_bucket, never limits
  // descriptors: limits of their own for requests whose rate limit actions
  // produce them. Empty: no request descriptors are built at all.
  std::vector<LimitDescriptor> descriptors;
  bool always_consume_default = true;  // always_consume_default_token_bucket
  // The filter's own rate_limits; when non-empty the route's and virtual
  // host's are not read.
  std::vector<RateLimitRule> rate_limits;
  enum class VhRateLimits : uint8_t { Override, Include, Ignore };
  VhRateLimits vh_rate_limits = VhRateLimits::Override;
  uint32_t stage = 0;
  LocalRateLimitCounters* counters = nullptr;  // owned by the registry, never freed
  std::string source;                          // "EnvoyFilter ns/name configPatches[i]"
};

class LocalRateLimitRegistry {
 public:
  // The bucket for `key` (where the config applies + its limit): the one in
  // use if any snapshot still holds it, else a new full one.
  std::shared_ptr<TokenBucket> bucket(const std::string& key, uint64_t max_tokens, uint64_t tokens_per_fill,
                                      int64_t fill_interval_ns);
  // The per-value buckets of a wildcard descriptor, kept across reloads as bucket() is.
  std::shared_ptr<DynamicBuckets> dynamic(const std::string& key, uint64_t max_tokens,
                                          uint64_t tokens_per_fill, int64_t fill_interval_ns,
                                          uint32_t max_size);
  LocalRateLimitCounters& counters(const std::string& stat_prefix);
  // ("<prefix>.http_local_rate_limit.<name>", value), sorted by name.
  std::vector<std::pair<std::string, uint64_t>> stats() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::weak_ptr<TokenBucket>> buckets_;
  std::map<std::string, std::weak_ptr<DynamicBuckets>> dynamic_;
  std::map<std::string, std::unique_ptr<LocalRateLimitCounters>> counters_;
};

LocalRateLimitRegistry& rate_limit_registry();

}  // namespace torii::router
