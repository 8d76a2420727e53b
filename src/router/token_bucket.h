// The token bucket of Envoy's local rate limit filter, shared by every
// worker of the process without a lock.
//
// Refill is continuous, as in current Envoy (AtomicTokenBucketImpl, used by
// LocalRateLimiterImpl since 1.31): tokens come back at tokens_per_fill per
// fill_interval, pro rata, never above max_tokens. (Older Envoy refilled in
// steps on a timer; over a whole fill_interval both give the same count.)
//
// One 64-bit atomic holds the whole state: `empty_at_`, the instant (ns on
// the injected clock) at which the bucket was (or would have been) empty.
// tokens(now) = min(max_tokens, (now - empty_at) / ns_per_token). Taking a
// token moves empty_at forward by ns_per_token with a CAS; a full bucket
// first clamps empty_at to now - max_tokens * ns_per_token. So concurrent
// takers on N threads see exactly as many successes as there were tokens.
#pragma once

#include <atomic>
#include <cstdint>

namespace torii::router {

// Nanoseconds on a monotonic clock. Tests inject their own.
using MonotonicClock = int64_t (*)();
int64_t steady_now_ns();

class TokenBucket {
 public:
  // fill_interval_ns > 0, tokens_per_fill >= 1, max_tokens >= 1. Starts full.
  TokenBucket(uint64_t max_tokens, uint64_t tokens_per_fill, int64_t fill_interval_ns,
              MonotonicClock clock = &steady_now_ns);

  // Takes one token; false when none is left (the request is limited).
  bool try_consume();
  // Whole tokens left now (x-ratelimit-remaining).
  uint64_t remaining() const;
  // Nanoseconds until the next token arrives, 0 if the bucket is full
  // (x-ratelimit-reset is this rounded up to seconds).
  int64_t ns_until_next_token() const;

  uint64_t max_tokens() const { return max_tokens_; }
  uint64_t tokens_per_fill() const { return tokens_per_fill_; }
  int64_t fill_interval_ns() const { return fill_interval_ns_; }

 private:
  uint64_t tokens_at(int64_t now, int64_t empty_at) const;
  int64_t clock_now() const { return clock_() >> shift_; }

  const uint64_t max_tokens_;
  const uint64_t tokens_per_fill_;
  const int64_t fill_interval_ns_;
  // Time unit: 2^shift_ ns (0 unless the limit is absurdly large, see .cc).
  const int shift_;
  // fill_interval / tokens_per_fill in time units, at least 1 (the rounding
  // is below a nanosecond per token, far under any clock's resolution).
  const int64_t ns_per_token_;
  // max_tokens * ns_per_token: how long an empty bucket takes to fill.
  const int64_t full_span_;
  const MonotonicClock clock_;
  std::atomic<int64_t> empty_at_;
};

}  // namespace torii::router
