// Descriptors for Envoy's local rate limit filter: the rate limit actions of
// a route, virtual host or filter config turn a request into descriptors
// (lists of key/value entries), and a config's descriptors each limit the
// requests that carry them with a bucket of their own (docs/rate-limit.md).
//
// Only configs that have descriptors pay for any of this: the filter builds
// request descriptors (a few small strings) only then, as Envoy does.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "router/route_match.h"
#include "router/token_bucket.h"

namespace torii::router {

struct RequestView;

// One descriptor: (key, value) entries in action order.
using DescriptorEntries = std::vector<std::pair<std::string, std::string>>;

// One action of an Envoy route.v3.RateLimit.
struct RateLimitAction {
  enum class Kind : uint8_t {
    RequestHeader,        // (descriptor_key, the header's first value); absent: fail or skip
    RemoteAddress,        // ("remote_address", the client address the gateway trusts)
    MaskedRemoteAddress,  // ("masked_remote_address", "<address masked>/<len>")
    GenericKey,           // (descriptor_key, descriptor_value)
    HeaderValueMatch,     // (descriptor_key, descriptor_value) when all headers match == expect_match
    QueryValueMatch,      // the same with query parameters
    Unsupported,          // never produces: the rule makes no descriptor
  };
  Kind kind = Kind::Unsupported;
  std::string key;
  std::string value;
  std::string header_name;  // RequestHeader (lower-case)
  HeaderSource source = HeaderSource::Header;
  bool skip_if_absent = false;
  bool expect_match = true;
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParamMatcher> query;
  uint8_t v4_prefix_len = 32;
  uint8_t v6_prefix_len = 128;
};

// route.v3.RateLimit: its actions together make one descriptor.
struct RateLimitRule {
  uint32_t stage = 0;
  std::vector<RateLimitAction> actions;
};

// The rate limit rules of a route or virtual host (EnvoyFilter MERGE patches).
struct RouteRateLimits {
  std::vector<RateLimitRule> rules;
  bool include_vh_rate_limits = false;  // routes only
};

// Appends the descriptors `rules` (those of `stage`) make of the request.
// `remote_address` is the client's address as the gateway trusts it.
void populate_descriptors(std::span<const RateLimitRule> rules, uint32_t stage, const RequestView& request,
                          std::string_view remote_address, std::vector<DescriptorEntries>& out);

// "10.1.0.0/16": `address` with all but `prefix_len` leading bits cleared
// (Envoy's CidrRange::asString); empty if `address` is not an IP.
std::string masked_address(std::string_view address, uint8_t v4_prefix_len, uint8_t v6_prefix_len);

// Buckets of a descriptor with a wildcard (empty) value: one per distinct
// request descriptor, the least recently used dropped beyond `max_size`
// (Envoy's DynamicDescriptor). A mutex, taken only by requests that match it.
class DynamicBuckets {
 public:
  DynamicBuckets(uint64_t max_tokens, uint64_t tokens_per_fill, int64_t fill_interval_ns, uint32_t max_size,
                 MonotonicClock clock = &steady_now_ns);
  std::shared_ptr<TokenBucket> get(const DescriptorEntries& request);
  size_t size() const;

 private:
  using Lru = std::list<std::string>;
  const uint64_t max_tokens_;
  const uint64_t tokens_per_fill_;
  const int64_t fill_interval_ns_;
  const uint32_t max_size_;
  const MonotonicClock clock_;
  mutable std::mutex mutex_;
  Lru lru_;  // most recent first
  std::unordered_map<std::string, std::pair<std::shared_ptr<TokenBucket>, Lru::iterator>> buckets_;
};

// A descriptor a config limits (common.ratelimit.v3.LocalRateLimitDescriptor).
struct LimitDescriptor {
  DescriptorEntries entries;  // an empty value: any value
  bool wildcard = false;
  std::shared_ptr<TokenBucket> bucket;      // !wildcard
  std::shared_ptr<DynamicBuckets> dynamic;  // wildcard
  double fill_rate = 0;                     // tokens per second: the strictest is consumed first
  // The request descriptor equals the entries, a wildcard value taking any value.
  bool matches(const DescriptorEntries& request) const;
};

// The bucket that decided a request, for x-ratelimit-* headers. `hold`
// keeps a dynamic bucket alive past its eviction while the request runs.
struct RateLimitVerdict {
  bool allowed = true;
  const TokenBucket* bucket = nullptr;
  std::shared_ptr<TokenBucket> hold;
};

// Envoy's LocalRateLimiterImpl::requestAllowed: every configured descriptor
// a request descriptor matches (exact ones first, else the first wildcard)
// takes a token, the slowest-filling first, and the first without one limits
// the request; the default bucket is taken too when nothing matched or
// `always_consume_default`. `default_bucket` may be null (no token_bucket).
RateLimitVerdict decide(std::span<const LimitDescriptor> descriptors, TokenBucket* default_bucket,
                        bool always_consume_default, std::span<const DescriptorEntries> request);

}  // namespace torii::router
