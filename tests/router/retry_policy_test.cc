// Retry decisions as Envoy's RetryStateImpl makes them with the policy
// istiod builds (ISTIO_SEMANTICS §3.7).
#include "router/retry_policy.h"

#include <gtest/gtest.h>

namespace torii::router {
namespace {

http::HeaderMap headers(std::initializer_list<std::pair<const char*, const char*>> fields = {}) {
  http::HeaderMap h;
  for (const auto& [name, value] : fields) h.add(name, value);
  return h;
}

TEST(RetryPolicyTest, IstioDefaultPolicy) {
  RetryPolicy p = istio_default_retry_policy();
  EXPECT_EQ(p.num_retries, 2u);
  EXPECT_EQ(retry_on_string(p),
            "connect-failure,refused-stream,retriable-status-codes,cancelled,unavailable");
  EXPECT_TRUE(p.retriable_status_codes.empty());  // 503 excluded since Istio 1.24
  EXPECT_TRUE(p.avoid_previous_hosts);
  EXPECT_EQ(p.host_selection_max_attempts, 5u);
  EXPECT_EQ(p.per_try_timeout_ms, 0u);
  // Connect failures are retried; resets, timeouts and 503s are not.
  EXPECT_TRUE(retry_on_failure(p, AttemptFailure::ConnectFailure));
  EXPECT_FALSE(retry_on_failure(p, AttemptFailure::Reset));
  EXPECT_FALSE(retry_on_failure(p, AttemptFailure::PerTryTimeout));
  EXPECT_FALSE(retry_on_response(p, 503, headers()));
  // gRPC UNAVAILABLE (14) and CANCELLED (1) in a trailers-only response are.
  EXPECT_TRUE(retry_on_response(p, 200, headers({{"grpc-status", "14"}})));
  EXPECT_TRUE(retry_on_response(p, 200, headers({{"grpc-status", "1"}})));
  EXPECT_FALSE(retry_on_response(p, 200, headers({{"grpc-status", "13"}})));
}

TEST(RetryPolicyTest, ParseRetryOnSplitsStatusCodesLikeIstiod) {
  RetryPolicy p;
  parse_retry_on("gateway-error, 503,409,connect-failure", p);
  EXPECT_EQ(p.retriable_status_codes, (std::vector<uint32_t>{503, 409}));
  EXPECT_EQ(p.retry_on, kRetryOnGatewayError | kRetryOnConnectFailure | kRetryOnRetriableStatusCodes);
  // An unknown number is not a status code (Go's http.StatusText is empty).
  parse_retry_on("599,reset", p);
  EXPECT_TRUE(p.retriable_status_codes.empty());
  EXPECT_EQ(p.retry_on, kRetryOnReset);
}

TEST(RetryPolicyTest, EveryRetryOnNameParses) {
  RetryPolicy p;
  parse_retry_on(
      "5xx,gateway-error,reset,reset-before-request,connect-failure,retriable-4xx,refused-stream,"
      "retriable-status-codes,retriable-headers,envoy-ratelimited,http3-post-connect-failure,cancelled,"
      "deadline-exceeded,internal,resource-exhausted,unavailable",
      p);
  EXPECT_EQ(p.retry_on, (1u << 16) - 1);
}

TEST(RetryPolicyTest, StatusClassification) {
  RetryPolicy p;
  parse_retry_on("5xx", p);
  EXPECT_TRUE(retry_on_response(p, 500, headers()));
  EXPECT_TRUE(retry_on_response(p, 503, headers()));
  EXPECT_FALSE(retry_on_response(p, 404, headers()));
  EXPECT_FALSE(retry_on_response(p, 200, headers()));

  parse_retry_on("gateway-error", p);
  EXPECT_FALSE(retry_on_response(p, 500, headers()));
  EXPECT_TRUE(retry_on_response(p, 502, headers()));
  EXPECT_TRUE(retry_on_response(p, 503, headers()));
  EXPECT_TRUE(retry_on_response(p, 504, headers()));

  parse_retry_on("retriable-4xx", p);
  EXPECT_TRUE(retry_on_response(p, 409, headers()));
  EXPECT_FALSE(retry_on_response(p, 429, headers()));

  parse_retry_on("429,503", p);
  EXPECT_TRUE(retry_on_response(p, 429, headers()));
  EXPECT_TRUE(retry_on_response(p, 503, headers()));
  EXPECT_FALSE(retry_on_response(p, 502, headers()));

  // x-envoy-ratelimited decides alone.
  parse_retry_on("5xx", p);
  EXPECT_FALSE(retry_on_response(p, 503, headers({{"x-envoy-ratelimited", "true"}})));
  parse_retry_on("envoy-ratelimited", p);
  EXPECT_TRUE(retry_on_response(p, 429, headers({{"x-envoy-ratelimited", "true"}})));
}

TEST(RetryPolicyTest, FailureClassification) {
  RetryPolicy p;
  parse_retry_on("connect-failure", p);
  EXPECT_TRUE(retry_on_failure(p, AttemptFailure::ConnectFailure));
  EXPECT_FALSE(retry_on_failure(p, AttemptFailure::Reset));
  // A reset becomes a 5xx, so 5xx and gateway-error retry it (Envoy).
  for (const char* on : {"reset", "5xx", "gateway-error"}) {
    parse_retry_on(on, p);
    EXPECT_TRUE(retry_on_failure(p, AttemptFailure::Reset)) << on;
    EXPECT_TRUE(retry_on_failure(p, AttemptFailure::PerTryTimeout)) << on;
    EXPECT_TRUE(retry_on_failure(p, AttemptFailure::ConnectFailure)) << on;
  }
  parse_retry_on("refused-stream,retriable-4xx,503", p);
  EXPECT_FALSE(retry_on_failure(p, AttemptFailure::Reset));
  EXPECT_FALSE(retry_on_failure(p, AttemptFailure::ConnectFailure));
  parse_retry_on("reset-before-request", p);
  EXPECT_TRUE(retry_on_failure(p, AttemptFailure::ConnectFailure));
  EXPECT_FALSE(retry_on_failure(p, AttemptFailure::Reset));
}

TEST(RetryPolicyTest, BackoffIsFullJitterWithinEnvoysBounds) {
  RetryPolicy p;  // 25 ms base, 250 ms max
  // Retry n draws from [0, min((2^n - 1) * 25, 250)).
  const uint64_t bounds[] = {25, 75, 175, 250, 250, 250};
  for (uint32_t retry = 1; retry <= 6; ++retry) {
    const uint64_t bound = bounds[retry - 1];
    EXPECT_EQ(backoff_ms(p, retry, 0), 0u);
    EXPECT_EQ(backoff_ms(p, retry, bound - 1), bound - 1) << retry;
    EXPECT_EQ(backoff_ms(p, retry, bound), 0u) << retry;  // wraps: never reaches the bound
    for (uint64_t r : {uint64_t{12345}, ~uint64_t{0}, uint64_t{1} << 40})
      EXPECT_LT(backoff_ms(p, retry, r), bound);
  }
  EXPECT_LT(backoff_ms(p, 100, ~uint64_t{0}), 250u);  // no overflow on large retry counts
  p.base_interval_ms = 100;
  p.max_interval_ms = 1000;
  EXPECT_EQ(backoff_ms(p, 1, 99), 99u);
  EXPECT_EQ(backoff_ms(p, 4, 999), 999u);
  EXPECT_LT(backoff_ms(p, 5, ~uint64_t{0}), 1000u);
}

TEST(RetryPolicyTest, IdempotentMethods) {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
    EXPECT_TRUE(is_idempotent_method(m));
  for (const char* m : {"POST", "PATCH", "CONNECT", "PROPFIND", "get"}) EXPECT_FALSE(is_idempotent_method(m));
}

}  // namespace
}  // namespace torii::router
