// What one HTTP stream did, for the access log (Envoy's StreamInfo): times,
// the request's identity, the response code, Envoy's response flags and
// response code details, byte counts and the upstream that served it.
//
// Cost: filled in place by the ActiveStream that owns it, with fixed-size
// fields and views into what the stream keeps anyway (its request head, its
// snapshot's route and cluster names, static detail strings): nothing on the
// request path allocates for it. A failure that carries a transport failure
// reason builds its details string once, on that failure path only.
//
// Header-only so the telemetry library (the formatter) can read it without
// linking the proxy.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace torii::proxy {

// Envoy's response flags (envoy/stream_info/stream_info.h), by their short
// names, in Envoy's bit order, which is also the order %RESPONSE_FLAGS%
// joins them in. All are named; docs/access-log.md says which Torii raises.
namespace flag {
inline constexpr uint32_t LH = 1u << 0;      // FailedLocalHealthCheck
inline constexpr uint32_t UH = 1u << 1;      // NoHealthyUpstream
inline constexpr uint32_t UT = 1u << 2;      // UpstreamRequestTimeout
inline constexpr uint32_t LR = 1u << 3;      // LocalReset
inline constexpr uint32_t UR = 1u << 4;      // UpstreamRemoteReset
inline constexpr uint32_t UF = 1u << 5;      // UpstreamConnectionFailure
inline constexpr uint32_t UC = 1u << 6;      // UpstreamConnectionTermination
inline constexpr uint32_t UO = 1u << 7;      // UpstreamOverflow
inline constexpr uint32_t NR = 1u << 8;      // NoRouteFound
inline constexpr uint32_t DI = 1u << 9;      // DelayInjected
inline constexpr uint32_t FI = 1u << 10;     // FaultInjected
inline constexpr uint32_t RL = 1u << 11;     // RateLimited
inline constexpr uint32_t UAEX = 1u << 12;   // UnauthorizedExternalService
inline constexpr uint32_t RLSE = 1u << 13;   // RateLimitServiceError
inline constexpr uint32_t DC = 1u << 14;     // DownstreamConnectionTermination
inline constexpr uint32_t URX = 1u << 15;    // UpstreamRetryLimitExceeded
inline constexpr uint32_t SI = 1u << 16;     // StreamIdleTimeout
inline constexpr uint32_t IH = 1u << 17;     // InvalidEnvoyRequestHeaders
inline constexpr uint32_t DPE = 1u << 18;    // DownstreamProtocolError
inline constexpr uint32_t UMSDR = 1u << 19;  // UpstreamMaxStreamDurationReached
inline constexpr uint32_t RFCF = 1u << 20;   // ResponseFromCacheFilter
inline constexpr uint32_t NFCF = 1u << 21;   // NoFilterConfigFound
inline constexpr uint32_t DT = 1u << 22;     // DurationTimeout
inline constexpr uint32_t UPE = 1u << 23;    // UpstreamProtocolError
inline constexpr uint32_t NC = 1u << 24;     // NoClusterFound
inline constexpr uint32_t OM = 1u << 25;     // OverloadManager
inline constexpr uint32_t DF = 1u << 26;     // DnsResolutionFailed
inline constexpr uint32_t DO = 1u << 27;     // DropOverload
inline constexpr uint32_t DR = 1u << 28;     // DownstreamRemoteReset
inline constexpr uint32_t UDO = 1u << 29;    // UnconditionalDropOverload
}  // namespace flag
inline constexpr int kResponseFlagCount = 30;

// Short and long names, indexed by bit number.
inline constexpr std::string_view kResponseFlagShort[kResponseFlagCount] = {
    "LH",  "UH", "UT", "LR",  "UR",    "UF",   "UC",   "UO", "NR",  "DI", "FI", "RL", "UAEX", "RLSE", "DC",
    "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO",   "DR",   "UDO"};
inline constexpr std::string_view kResponseFlagLong[kResponseFlagCount] = {
    "FailedLocalHealthCheck",
    "NoHealthyUpstream",
    "UpstreamRequestTimeout",
    "LocalReset",
    "UpstreamRemoteReset",
    "UpstreamConnectionFailure",
    "UpstreamConnectionTermination",
    "UpstreamOverflow",
    "NoRouteFound",
    "DelayInjected",
    "FaultInjected",
    "RateLimited",
    "UnauthorizedExternalService",
    "RateLimitServiceError",
    "DownstreamConnectionTermination",
    "UpstreamRetryLimitExceeded",
    "StreamIdleTimeout",
    "InvalidEnvoyRequestHeaders",
    "DownstreamProtocolError",
    "UpstreamMaxStreamDurationReached",
    "ResponseFromCacheFilter",
    "NoFilterConfigFound",
    "DurationTimeout",
    "UpstreamProtocolError",
    "NoClusterFound",
    "OverloadManagerTerminated",
    "DnsResolutionFailed",
    "DropOverload",
    "DownstreamRemoteReset",
    "UnconditionalDropOverload",
};

// Envoy's response code details (source/common/stream_info/utility.h and
// the router's), the ones Torii sets.
namespace details {
inline constexpr std::string_view kViaUpstream = "via_upstream";
inline constexpr std::string_view kRouteNotFound = "route_not_found";
inline constexpr std::string_view kClusterNotFound = "cluster_not_found";
inline constexpr std::string_view kNoHealthyUpstream = "no_healthy_upstream";
inline constexpr std::string_view kFaultAbort = "fault_filter_abort";
inline constexpr std::string_view kLocalRateLimited = "local_rate_limited";
inline constexpr std::string_view kDirectResponse = "direct_response";
inline constexpr std::string_view kResponseTimeout = "response_timeout";
inline constexpr std::string_view kDownstreamRemoteDisconnect = "downstream_remote_disconnect";
inline constexpr std::string_view kLowVersion = "low_version";
inline constexpr std::string_view kUpgradeFailed = "upgrade_failed";
inline constexpr std::string_view kMissingHostHeader = "missing_host_header";
inline constexpr std::string_view kInvalidPath = "http1.invalid_url";
inline constexpr std::string_view kConnectionHeaderSanitization = "http1.connection_header_rejected";
inline constexpr std::string_view kDnsResolutionFailed = "dns_resolution_failure";
inline constexpr std::string_view kCorsPreflight = "cors_response";
inline constexpr std::string_view kGrpcWebDecodeFailed = "grpc_base_64_decode_failed";
// Not Envoy: Torii answers 421 for a host another TLS server owns (README).
inline constexpr std::string_view kMisdirectedRequest = "misdirected_request";
// Envoy's router: "upstream_reset_before_response_started{<reason>}".
inline constexpr std::string_view kResetConnectionFailure =
    "upstream_reset_before_response_started{connection_failure}";
inline constexpr std::string_view kResetConnectionTermination =
    "upstream_reset_before_response_started{connection_termination}";
inline constexpr std::string_view kResetRemoteReset = "upstream_reset_before_response_started{remote_reset}";
inline constexpr std::string_view kResetRemoteRefusedStream =
    "upstream_reset_before_response_started{remote_refused_stream_reset}";
inline constexpr std::string_view kResetProtocolError =
    "upstream_reset_before_response_started{protocol_error}";
inline constexpr std::string_view kResetOverflow = "upstream_reset_before_response_started{overflow}";
inline constexpr std::string_view kResetAfterStarted =
    "upstream_reset_after_response_started{connection_termination}";
}  // namespace details

struct StreamInfo {
  // ---- times ----
  int64_t start_time_us = 0;              // wall clock (CLOCK_REALTIME), microseconds since the epoch
  uint64_t start_ms = 0;                  // the worker loop's monotonic clock, at the request head
  uint64_t end_ms = 0;                    // same clock, when the last response byte was queued (0: never)
  int64_t upstream_service_time_ms = -1;  // x-envoy-upstream-service-time; -1: local reply

  // ---- the request (views into the stream's request head) ----
  std::string_view method;
  std::string_view authority;
  std::string_view path;      // as received, before any rewrite (Envoy's x-envoy-original-path)
  std::string_view protocol;  // "HTTP/1.0", "HTTP/1.1", "HTTP/2"
  std::string_view downstream_remote_address;
  std::string_view requested_server_name;  // SNI

  // ---- the response ----
  int response_code = 0;  // 0: nothing was sent
  uint32_t response_flags = 0;
  std::string_view response_code_details;
  uint64_t bytes_received = 0;  // request body bytes (Envoy: body, not wire)
  uint64_t bytes_sent = 0;      // response body bytes, a local reply's included

  // ---- the upstream (views into the stream's snapshot) ----
  std::string_view upstream_cluster;
  std::string_view route_name;
  std::string_view upstream_transport_failure_reason;
  char upstream_host[48] = {};  // "ip:port" of the last endpoint tried ("[v6]:port")
  uint8_t upstream_host_len = 0;

  void set_flag(uint32_t flag) { response_flags |= flag; }
  bool has_flag(uint32_t flag) const { return (response_flags & flag) != 0; }
  std::string_view upstream_host_view() const { return {upstream_host, upstream_host_len}; }
  void set_upstream_host(std::string_view address, uint16_t port) {
    // "[v6]:port" for IPv6 addresses, as Envoy prints them.
    const bool v6 = address.find(':') != std::string_view::npos;
    char digits[8];
    int n = 0;
    uint16_t p = port;
    do {
      digits[n++] = static_cast<char>('0' + p % 10);
      p /= 10;
    } while (p != 0);
    const size_t need = address.size() + (v6 ? 2 : 0) + 1 + static_cast<size_t>(n);
    if (need > sizeof(upstream_host)) {
      upstream_host_len = 0;
      return;
    }
    size_t pos = 0;
    if (v6) upstream_host[pos++] = '[';
    std::memcpy(upstream_host + pos, address.data(), address.size());
    pos += address.size();
    if (v6) upstream_host[pos++] = ']';
    upstream_host[pos++] = ':';
    while (n > 0) upstream_host[pos++] = digits[--n];
    upstream_host_len = static_cast<uint8_t>(pos);
  }
  // Whole ms from the request head to the last response byte (or to now).
  uint64_t duration_ms(uint64_t now_ms) const {
    const uint64_t end = end_ms != 0 ? end_ms : now_ms;
    return end >= start_ms ? end - start_ms : 0;
  }
};

}  // namespace torii::proxy
