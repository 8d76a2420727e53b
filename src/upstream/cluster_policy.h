// The effective traffic policy of one cluster, resolved at compile time from
// the DestinationRule that applies (compile/traffic_policy_resolution.cc) and
// filled with Istio's defaults (ISTIO_SEMANTICS §5, Appendix C). Immutable;
// part of ClusterInfo. Workers only read it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/tls.h"

namespace torii::upstream {

// Istio sets every circuit-breaker threshold to 2^32-1 (getDefaultCircuitBreakerThresholds).
inline constexpr uint64_t kUnlimited = 0xffffffffULL;

enum class LbPolicy {
  LeastRequest,  // Istio's default (LEAST_CONN is an alias)
  RoundRobin,
  Random,
  // PASSTHROUGH is Envoy's ORIGINAL_DST: forward to the address the client
  // originally connected to. At a gateway that is the gateway itself (there
  // is no iptables redirect in front of it), so Torii treats it as RANDOM
  // over the service's endpoints and says so in a compile diagnostic.
  Passthrough,
  RingHash,
  Maglev,
};
const char* lb_policy_name(LbPolicy policy);

// The HTTP version spoken to the cluster's endpoints (ISTIO_SEMANTICS §4.4;
// compile/port_protocol.h decides it).
enum class UpstreamProtocol : uint8_t {
  Http1,
  Http2,  // h2c in cleartext, ALPN h2 when the cluster originates TLS
  // DestinationRule useClientProtocol: HTTP/2 for HTTP/2 clients, else HTTP/1.1.
  Downstream,
};
const char* upstream_protocol_name(UpstreamProtocol protocol);

// Where a consistent-hash key comes from (route hash policy in Envoy).
struct HashPolicy {
  enum class Kind { None, Header, Cookie, SourceIp, QueryParameter };
  Kind kind = Kind::None;
  std::string name;  // header (lower-cased), cookie or query parameter name
  std::string cookie_path;
  int64_t cookie_ttl_ms = -1;  // -1: never generate; 0: session cookie
  std::vector<std::pair<std::string, std::string>> cookie_attributes;
  bool operator==(const HashPolicy&) const = default;
};

struct CircuitBreakerLimits {
  uint64_t max_connections = kUnlimited;       // tcp.maxConnections
  uint64_t max_pending_requests = kUnlimited;  // http.http1MaxPendingRequests
  uint64_t max_requests = kUnlimited;          // http.http2MaxRequests
  uint64_t max_retries = kUnlimited;           // http.maxRetries
  bool operator==(const CircuitBreakerLimits&) const = default;
};

struct ConnectionSettings {
  uint32_t connect_timeout_ms = 10000;       // mesh connectTimeout
  uint64_t max_requests_per_connection = 0;  // 0: unlimited
  int64_t idle_timeout_ms = -1;              // -1: the server's upstream idle timeout (1 h); 0: none
  int64_t max_connection_duration_ms = -1;   // -1: none
  bool keepalive = false;                    // tcp.tcpKeepalive written: SO_KEEPALIVE on
  uint32_t keepalive_probes = 0;             // 0: OS default
  uint32_t keepalive_time_s = 0;
  uint32_t keepalive_interval_s = 0;
  // HTTP/2: streams opened at once on one connection (http.maxConcurrentStreams;
  // the server's SETTINGS_MAX_CONCURRENT_STREAMS caps it further). Istio's
  // default, 2^30 (cluster_builder.go http2ProtocolOptions).
  uint32_t max_concurrent_streams = 1u << 30;
  bool operator==(const ConnectionSettings&) const = default;
};

// Envoy's outlier detection as Istio configures it (ctp.go applyOutlierDetection).
struct OutlierPolicy {
  bool enabled = false;                   // an outlierDetection block applies
  uint32_t consecutive_5xx = 5;           // 0: off
  uint32_t consecutive_gateway = 0;       // 0: off (Envoy enforcing_consecutive_gateway_failure 0)
  uint32_t consecutive_local_origin = 0;  // 0: off; only with split
  bool split_local_origin = false;
  uint64_t interval_ms = 10000;
  uint64_t base_ejection_ms = 30000;
  uint64_t max_ejection_ms = 300000;  // Envoy max_ejection_time default
  uint32_t max_ejection_percent = 10;
  bool operator==(const OutlierPolicy&) const = default;
};

struct WarmupPolicy {
  uint64_t duration_ms = 0;  // 0: off
  double minimum_percent = 10.0;
  double aggression = 1.0;
  bool operator==(const WarmupPolicy&) const = default;
};

// DestinationRule `tls` (SIMPLE / MUTUAL): TLS originated to every endpoint.
struct UpstreamTls {
  bool enabled = false;
  // Null while enabled: the settings could not be loaded (reported at compile
  // time); connections then fail rather than go out in plaintext.
  std::shared_ptr<const net::TlsContext> context;  // ALPN h2 for an HTTP/2 cluster, else http/1.1
  // useClientProtocol: the context (ALPN h2) for requests from HTTP/2 clients.
  std::shared_ptr<const net::TlsContext> context_h2;
  // Explicit `sni`; empty: the request's Host (Istio's auto_sni), which is
  // then also the name the certificate must carry when `subjectAltNames` is
  // empty (auto_san_validation).
  std::string sni;
  std::string mode;  // SIMPLE | MUTUAL, for /config_dump
  // Identifies the settings the context was built from (files, PEM text,
  // SANs, sni): a reload that changes them retires the idle connections made
  // with the old ones; an unchanged policy keeps them.
  uint64_t fingerprint = 0;
  bool operator==(const UpstreamTls&) const = default;
};

struct ClusterPolicy {
  LbPolicy lb = LbPolicy::LeastRequest;
  HashPolicy hash;            // for RingHash / Maglev
  uint64_t ring_size = 1024;  // RingHash minimum ring size
  uint64_t maglev_table_size = 65537;
  CircuitBreakerLimits limits;
  ConnectionSettings connection;
  OutlierPolicy outlier;
  // Percent of healthy endpoints below which the gateway ignores health
  // (Envoy's healthy panic threshold): 50 without outlier detection,
  // minHealthPercent (default 0 = never panic) with it.
  uint32_t healthy_panic_threshold = 50;
  WarmupPolicy warmup;
  bool locality_failover = false;  // endpoints carry priorities (outlier detection + gateway locality)
  // Which DestinationRule (and subset / port-level entry) this came from, for
  // /config_dump; empty when none applies.
  std::string source;
  UpstreamTls tls;
  UpstreamProtocol protocol = UpstreamProtocol::Http1;
  bool operator==(const ClusterPolicy&) const = default;
};

}  // namespace torii::upstream
