#include "router/token_bucket.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace torii::router {

namespace {

constexpr int64_t kMaxSpan = std::numeric_limits<int64_t>::max() / 4;

int64_t span_of(uint64_t max_tokens, int64_t ns_per_token) {
  // ns_per_token >= 1: compare by division so the product cannot overflow.
  if (max_tokens > static_cast<uint64_t>(kMaxSpan / ns_per_token)) return kMaxSpan;
  return static_cast<int64_t>(max_tokens) * ns_per_token;
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
      ns_per_token_(std::max<int64_t>(
          fill_interval_ns_ /
              static_cast<int64_t>(std::min<uint64_t>(tokens_per_fill_, static_cast<uint64_t>(kMaxSpan))),
          1)),
      full_span_(span_of(max_tokens_, ns_per_token_)),
      clock_(clock),
      empty_at_(clock() - full_span_) {}

uint64_t TokenBucket::tokens_at(int64_t now, int64_t empty_at) const {
  if (now <= empty_at) return 0;
  const int64_t elapsed = now - empty_at;
  if (elapsed >= full_span_) return max_tokens_;
  return std::min<uint64_t>(static_cast<uint64_t>(elapsed / ns_per_token_), max_tokens_);
}

bool TokenBucket::try_consume() {
  const int64_t now = clock_();
  int64_t empty_at = empty_at_.load(std::memory_order_relaxed);
  for (;;) {
    if (tokens_at(now, empty_at) == 0) return false;
    // A full bucket holds max_tokens, not more: time spent full earns nothing.
    const int64_t next = std::max(empty_at, now - full_span_) + ns_per_token_;
    if (empty_at_.compare_exchange_weak(empty_at, next, std::memory_order_relaxed)) return true;
  }
}

uint64_t TokenBucket::remaining() const {
  return tokens_at(clock_(), empty_at_.load(std::memory_order_relaxed));
}

int64_t TokenBucket::ns_until_next_token() const {
  const int64_t now = clock_();
  const int64_t empty_at = empty_at_.load(std::memory_order_relaxed);
  if (now - empty_at >= full_span_) return 0;
  const int64_t into = (now - empty_at) % ns_per_token_;
  return now < empty_at ? empty_at - now + ns_per_token_ : ns_per_token_ - into;
}

}  // namespace torii::router
