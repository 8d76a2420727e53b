#include "router/token_bucket.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace torii::router {

namespace {

constexpr int64_t kMaxSpan = std::numeric_limits<int64_t>::max() / 4;

// Time is counted in units of 2^shift ns, the smallest that lets
// max_tokens * ns_per_token fit in kMaxSpan (0 for any limit below ~73 years
// of tokens; a coarser unit only for absurd limits such as 2^32 tokens at
// one a year, where sub-millisecond precision is meaningless anyway).
int shift_for(uint64_t max_tokens, int64_t ns_per_token) {
  int shift = 0;
  while (shift < 62) {
    const int64_t per_token = std::max<int64_t>(ns_per_token >> shift, 1);
    if (max_tokens <= static_cast<uint64_t>(kMaxSpan / per_token)) break;
    ++shift;
  }
  return shift;
}

int64_t ns_per_token_of(uint64_t tokens_per_fill, int64_t fill_interval_ns) {
  const uint64_t per_fill =
      std::min<uint64_t>(std::max<uint64_t>(tokens_per_fill, 1), static_cast<uint64_t>(kMaxSpan));
  return std::max<int64_t>(std::max<int64_t>(fill_interval_ns, 1) / static_cast<int64_t>(per_fill), 1);
}

}  // namespace

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TokenBucket::TokenBucket(uint64_t max_tokens, uint64_t tokens_per_fill, int64_t fill_interval_ns,
                         MonotonicClock clock)
    : max_tokens_(std::max<uint64_t>(max_tokens, 1)),
      tokens_per_fill_(std::max<uint64_t>(tokens_per_fill, 1)),
      fill_interval_ns_(std::max<int64_t>(fill_interval_ns, 1)),
      shift_(shift_for(max_tokens_, ns_per_token_of(tokens_per_fill_, fill_interval_ns_))),
      ns_per_token_(std::max<int64_t>(ns_per_token_of(tokens_per_fill_, fill_interval_ns_) >> shift_, 1)),
      full_span_(std::min<int64_t>(static_cast<int64_t>(max_tokens_) * ns_per_token_, kMaxSpan)),
      clock_(clock),
      empty_at_(clock_now() - full_span_) {}

uint64_t TokenBucket::tokens_at(int64_t now, int64_t empty_at) const {
  if (now <= empty_at) return 0;
  const int64_t elapsed = now - empty_at;
  if (elapsed >= full_span_) return max_tokens_;
  return std::min<uint64_t>(static_cast<uint64_t>(elapsed / ns_per_token_), max_tokens_);
}

bool TokenBucket::try_consume() {
  const int64_t now = clock_now();
  int64_t empty_at = empty_at_.load(std::memory_order_relaxed);
  for (;;) {
    if (tokens_at(now, empty_at) == 0) return false;
    // A full bucket holds max_tokens, not more: time spent full earns nothing.
    const int64_t next = std::max(empty_at, now - full_span_) + ns_per_token_;
    if (empty_at_.compare_exchange_weak(empty_at, next, std::memory_order_relaxed)) return true;
  }
}

uint64_t TokenBucket::remaining() const {
  return tokens_at(clock_now(), empty_at_.load(std::memory_order_relaxed));
}

int64_t TokenBucket::ns_until_next_token() const {
  const int64_t now = clock_now();
  const int64_t empty_at = empty_at_.load(std::memory_order_relaxed);
  if (now - empty_at >= full_span_) return 0;
  const int64_t into = (now - empty_at) % ns_per_token_;
  return (now < empty_at ? empty_at - now + ns_per_token_ : ns_per_token_ - into) << shift_;
}

}  // namespace torii::router
