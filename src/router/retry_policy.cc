#include "router/retry_policy.h"

#include <algorithm>
#include <charconv>

namespace torii::router {

namespace {

struct NamedBit {
  std::string_view name;
  uint32_t bit;
};

constexpr NamedBit kRetryOnNames[] = {
    {"5xx", kRetryOn5xx},
    {"gateway-error", kRetryOnGatewayError},
    {"reset", kRetryOnReset},
    {"reset-before-request", kRetryOnResetBeforeRequest},
    {"connect-failure", kRetryOnConnectFailure},
    {"retriable-4xx", kRetryOnRetriable4xx},
    {"refused-stream", kRetryOnRefusedStream},
    {"retriable-status-codes", kRetryOnRetriableStatusCodes},
    {"retriable-headers", kRetryOnRetriableHeaders},
    {"envoy-ratelimited", kRetryOnEnvoyRateLimited},
    {"http3-post-connect-failure", kRetryOnHttp3PostConnectFailure},
    {"cancelled", kRetryOnGrpcCancelled},
    {"deadline-exceeded", kRetryOnGrpcDeadlineExceeded},
    {"internal", kRetryOnGrpcInternal},
    {"resource-exhausted", kRetryOnGrpcResourceExhausted},
    {"unavailable", kRetryOnGrpcUnavailable},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Go's http.StatusText is non-empty for these (what istiod's parseRetryOn
// accepts as a status code).
bool is_known_status(uint32_t code) {
  static constexpr uint16_t kCodes[] = {
      100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307,
      308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
      422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511};
  for (uint16_t c : kCodes) {
    if (c == code) return true;
  }
  return false;
}

}  // namespace

RetryPolicy istio_default_retry_policy() {
  RetryPolicy p;
  p.num_retries = 2;
  p.retry_on = kRetryOnConnectFailure | kRetryOnRefusedStream | kRetryOnGrpcUnavailable |
               kRetryOnGrpcCancelled | kRetryOnRetriableStatusCodes;
  return p;
}

void parse_retry_on(std::string_view list, RetryPolicy& policy) {
  policy.retry_on = 0;
  policy.retriable_status_codes.clear();
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view part = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (part.empty()) continue;
    // A status code as Go's strconv.Atoi reads it (istiod parseRetryOn): "+503" too.
    std::string_view digits = part.starts_with('+') ? part.substr(1) : part;
    uint32_t code = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
    if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size() &&
        is_known_status(code)) {
      policy.retriable_status_codes.push_back(code);
      continue;
    }
    for (const NamedBit& nb : kRetryOnNames) {
      if (nb.name == part) policy.retry_on |= nb.bit;
    }
  }
  if (!policy.retriable_status_codes.empty()) policy.retry_on |= kRetryOnRetriableStatusCodes;
}

std::string retry_on_string(const RetryPolicy& policy) {
  std::string out;
  for (const NamedBit& nb : kRetryOnNames) {
    if ((policy.retry_on & nb.bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += nb.name;
  }
  return out;
}

bool retry_on_failure(const RetryPolicy& policy, AttemptFailure failure) {
  const uint32_t on = policy.retry_on;
  if (on & kRetryOnReset) return true;
  // A reset counts as a 5xx: it becomes one.
  if (on & (kRetryOn5xx | kRetryOnGatewayError)) return true;
  if ((on & kRetryOnRefusedStream) && failure == AttemptFailure::RefusedStream) return true;
  // Only a connect failure provably happened before the request was sent.
  if ((on & (kRetryOnConnectFailure | kRetryOnResetBeforeRequest)) &&
      failure == AttemptFailure::ConnectFailure)
    return true;
  return false;
}

bool retry_on_response(const RetryPolicy& policy, int status, const http::HeaderMap& headers) {
  const uint32_t on = policy.retry_on;
  // A response carrying x-envoy-ratelimited comes from an upstream Envoy's
  // rate limiter: retried only for envoy-ratelimited, whatever the status.
  if (headers.has("x-envoy-ratelimited")) return (on & kRetryOnEnvoyRateLimited) != 0;
  if ((on & kRetryOn5xx) && status >= 500 && status < 600) return true;
  if ((on & kRetryOnGatewayError) && status >= 502 && status <= 504) return true;
  if ((on & kRetryOnRetriable4xx) && status == 409) return true;
  if (on & kRetryOnRetriableStatusCodes) {
    for (uint32_t code : policy.retriable_status_codes) {
      if (static_cast<int>(code) == status) return true;
    }
  }
  constexpr uint32_t kGrpcBits = kRetryOnGrpcCancelled | kRetryOnGrpcDeadlineExceeded | kRetryOnGrpcInternal |
                                 kRetryOnGrpcResourceExhausted | kRetryOnGrpcUnavailable;
  if (on & kGrpcBits) {
    const std::string_view* grpc = headers.get("grpc-status");
    int code = -1;
    if (grpc != nullptr) {
      auto [end, ec] = std::from_chars(grpc->data(), grpc->data() + grpc->size(), code);
      if (ec != std::errc() || end != grpc->data() + grpc->size()) code = -1;
    }
    switch (code) {
      case 1:
        return (on & kRetryOnGrpcCancelled) != 0;
      case 4:
        return (on & kRetryOnGrpcDeadlineExceeded) != 0;
      case 8:
        return (on & kRetryOnGrpcResourceExhausted) != 0;
      case 13:
        return (on & kRetryOnGrpcInternal) != 0;
      case 14:
        return (on & kRetryOnGrpcUnavailable) != 0;
      default:
        break;
    }
  }
  return false;
}

uint64_t backoff_ms(const RetryPolicy& policy, uint32_t retry, uint64_t random) {
  if (policy.base_interval_ms == 0) return 0;
  const uint32_t shift = retry > 32 ? 32 : retry;
  const uint64_t multiplier = (uint64_t{1} << shift) - 1;
  uint64_t bound = policy.max_interval_ms;
  if (multiplier <= policy.max_interval_ms / policy.base_interval_ms) {
    bound = std::min(multiplier * policy.base_interval_ms, policy.max_interval_ms);
  }
  if (bound == 0) return 0;
  return random % bound;
}

bool is_idempotent_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" || method == "PUT" ||
         method == "DELETE";
}

}  // namespace torii::router
