// A route's retry policy (Envoy RetryPolicy as istiod builds it, retry.go)
// and the decisions Envoy's RetryStateImpl makes with it: which failures and
// which responses are retried, and how long to back off. Pure functions over
// plain data, so they are tested without sockets; the data path
// (proxy/router_request) asks them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"

namespace torii::router {

// Envoy's retry_on conditions, as bits.
enum RetryOn : uint32_t {
  kRetryOn5xx = 1u << 0,
  kRetryOnGatewayError = 1u << 1,
  kRetryOnReset = 1u << 2,
  kRetryOnResetBeforeRequest = 1u << 3,
  kRetryOnConnectFailure = 1u << 4,
  kRetryOnRetriable4xx = 1u << 5,
  kRetryOnRefusedStream = 1u << 6,
  kRetryOnRetriableStatusCodes = 1u << 7,
  kRetryOnRetriableHeaders = 1u << 8,
  kRetryOnEnvoyRateLimited = 1u << 9,
  kRetryOnHttp3PostConnectFailure = 1u << 10,
  kRetryOnGrpcCancelled = 1u << 11,
  kRetryOnGrpcDeadlineExceeded = 1u << 12,
  kRetryOnGrpcInternal = 1u << 13,
  kRetryOnGrpcResourceExhausted = 1u << 14,
  kRetryOnGrpcUnavailable = 1u << 15,
};

struct RetryPolicy {
  uint32_t num_retries = 0;  // 0 = no retries (no policy)
  uint32_t retry_on = 0;     // RetryOn bits
  std::vector<uint32_t> retriable_status_codes;
  uint64_t per_try_timeout_ms = 0;  // 0 = none (bounded by the route timeout)
  // Envoy's JitteredExponentialBackOffStrategy: base 25 ms, max 10x base.
  uint64_t base_interval_ms = 25;
  uint64_t max_interval_ms = 250;
  // retry_host_predicate previous_hosts: a retry avoids endpoints already
  // tried, re-picking up to host_selection_max_attempts times.
  bool avoid_previous_hosts = true;
  uint32_t host_selection_max_attempts = 5;
  // retryRemoteLocalities (Envoy previous_priorities). Recorded and shown;
  // without locality-aware load balancing every endpoint is one priority, so
  // it changes nothing yet.
  bool retry_remote_localities = false;

  bool enabled() const { return num_retries > 0; }
};

// istiod's DefaultPolicy (retry.go, EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY=true,
// the default since Istio 1.24): 2 retries on
// connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes
// with no status codes, previous_hosts, 5 host selection attempts.
RetryPolicy istio_default_retry_policy();

// Parses Envoy's comma-separated retry_on list into bits plus, as istiod
// does, numeric entries into retriable_status_codes (adding
// retriable-status-codes when codes are present). Entries are trimmed; empty
// and unknown entries are ignored (validation rejects them earlier).
// Replaces policy.retry_on and policy.retriable_status_codes.
void parse_retry_on(std::string_view list, RetryPolicy& policy);
// "connect-failure,refused-stream,..." (for /config_dump and explain).
std::string retry_on_string(const RetryPolicy& policy);

// Why an attempt ended without a usable response.
enum class AttemptFailure {
  ConnectFailure,  // the connection to the endpoint could not be made
  Reset,           // closed / reset / unparseable before a response head
  RefusedStream,   // HTTP/2 REFUSED_STREAM (or unprocessed under GOAWAY): never processed
  PerTryTimeout,   // no response head within perTryTimeout
};

// Envoy wouldRetryFromReset. A per-try timeout counts as a reset (Envoy
// resets the upstream stream and asks the same question).
bool retry_on_failure(const RetryPolicy& policy, AttemptFailure failure);

// Envoy wouldRetryFromHeaders: 5xx, gateway-error (502/503/504),
// retriable-4xx (409), retriable-status-codes, envoy-ratelimited
// (x-envoy-ratelimited), gRPC codes from a grpc-status response header.
bool retry_on_response(const RetryPolicy& policy, int status, const http::HeaderMap& headers);

// Envoy's full-jitter exponential back-off before retry number `retry`
// (1-based): uniform in [0, min((2^retry - 1) * base, max)). `random` is any
// uniformly random value.
uint64_t backoff_ms(const RetryPolicy& policy, uint32_t retry, uint64_t random);

// RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE. Everything else
// (POST, PATCH, CONNECT, extension methods) is not idempotent.
bool is_idempotent_method(std::string_view method);

}  // namespace torii::router
