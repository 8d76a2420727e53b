// DestinationRule `trafficPolicy` (networking/v1alpha3/destination_rule.proto),
// as read from YAML. Plain data: the loader fills it (parse_traffic_policy.cc),
// validation checks it (validate_traffic_policy.cc), the compiler resolves the
// effective policy of each cluster from it (compile/traffic_policy_resolution).
//
// Conventions: a group that was written is an engaged optional (policy
// layering replaces whole groups, ISTIO_SEMANTICS §5.2); durations are
// milliseconds with -1 for "not set"; protobuf wrapper fields
// (UInt32Value, BoolValue) are optionals so "0" and "unset" stay distinct.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace torii::config {

struct LocalityLbSetting {
  struct Distribute {
    std::string from;
    std::vector<std::pair<std::string, uint32_t>> to;  // locality -> weight, as written
  };
  struct Failover {
    std::string from;
    std::string to;
  };
  std::vector<Distribute> distribute;
  std::vector<Failover> failover;
  std::vector<std::string> failover_priority;
  std::optional<bool> enabled;
};

struct LoadBalancerSettings {
  // LEAST_REQUEST (also LEAST_CONN), ROUND_ROBIN, RANDOM, PASSTHROUGH,
  // UNSPECIFIED; "" when `simple` is not written. Upper-cased.
  std::string simple;

  struct HttpCookie {
    std::string name;
    std::string path;
    int64_t ttl_ms = -1;  // -1: no ttl => the gateway never generates the cookie
    std::vector<std::pair<std::string, std::string>> attributes;
  };
  struct ConsistentHash {
    std::string http_header_name;
    std::optional<HttpCookie> http_cookie;
    bool use_source_ip = false;
    std::string http_query_parameter_name;
    bool ring_hash = false;  // `ringHash:` block written
    uint64_t ring_hash_minimum_ring_size = 0;
    bool maglev = false;  // `maglev:` block written
    uint64_t maglev_table_size = 0;
    uint64_t minimum_ring_size = 0;  // deprecated top-level field
    int key_count = 0;               // how many of header/cookie/sourceIp/query were written
  };
  std::optional<ConsistentHash> consistent_hash;
  std::optional<LocalityLbSetting> locality_lb_setting;
  // zoneAwareLbSetting: not implemented (validation checks and warns).
  struct ZoneAware {
    std::vector<LocalityLbSetting::Failover> failover;
    std::vector<std::string> failover_priority;
  };
  std::optional<ZoneAware> zone_aware_lb_setting;

  // warmupDurationSecs (deprecated) or warmup.duration; -1 unset.
  int64_t warmup_duration_ms = -1;
  double warmup_minimum_percent = 10.0;
  double warmup_aggression = 1.0;
  bool warmup_block = false;  // `warmup:` written (duration then required)
};

struct TcpKeepalive {
  uint32_t probes = 0;   // 0: OS default
  int64_t time_ms = -1;  // -1: OS default
  int64_t interval_ms = -1;
};

struct ConnectionPoolSettings {
  struct Tcp {
    uint32_t max_connections = 0;  // 0 = unset (Istio: zero means "not set")
    int64_t connect_timeout_ms = -1;
    std::optional<TcpKeepalive> tcp_keepalive;
    int64_t max_connection_duration_ms = -1;
    int64_t idle_timeout_ms = -1;  // 0 disables
  };
  struct Http {
    uint32_t http1_max_pending_requests = 0;
    uint32_t http2_max_requests = 0;
    uint32_t max_requests_per_connection = 0;
    uint32_t max_retries = 0;
    int64_t idle_timeout_ms = -1;
    std::string h2_upgrade_policy;  // DEFAULT | DO_NOT_UPGRADE | UPGRADE | ""
    bool use_client_protocol = false;
    uint32_t max_concurrent_streams = 0;
    bool http2_keepalive = false;  // block written
    int64_t http2_keepalive_interval_ms = -1;
    int64_t http2_keepalive_timeout_ms = -1;
  };
  std::optional<Tcp> tcp;
  std::optional<Http> http;
};

struct OutlierDetection {
  std::optional<uint32_t> consecutive_errors;  // deprecated (int32 in the proto)
  std::optional<uint32_t> consecutive_5xx_errors;
  std::optional<uint32_t> consecutive_gateway_errors;
  std::optional<uint32_t> consecutive_local_origin_failures;
  bool split_external_local_origin_errors = false;
  int64_t interval_ms = -1;
  int64_t base_ejection_time_ms = -1;
  int32_t max_ejection_percent = 0;
  int32_t min_health_percent = 0;
  bool min_health_percent_set = false;
};

// Parsed so that a DR carrying it loads; upstream TLS origination belongs to
// the egress issue and is not applied yet.
struct ClientTLSSettings {
  std::string mode;  // upper-cased
  std::string client_certificate;
  std::string private_key;
  std::string ca_certificates;
  std::string ca_crl;  // not implemented (validation warns)
  std::string credential_name;
  std::vector<std::string> subject_alt_names;
  std::string sni;
  bool insecure_skip_verify = false;
};

struct PortTrafficPolicy {
  uint32_t port = 0;      // port.number
  bool port_set = false;  // `port:` written (istiod requires it; number 0 never applies)
  std::optional<LoadBalancerSettings> load_balancer;
  std::optional<ConnectionPoolSettings> connection_pool;
  std::optional<OutlierDetection> outlier_detection;
  std::optional<ClientTLSSettings> tls;
};

struct TrafficPolicy {
  std::optional<LoadBalancerSettings> load_balancer;
  std::optional<ConnectionPoolSettings> connection_pool;
  std::optional<OutlierDetection> outlier_detection;
  std::optional<ClientTLSSettings> tls;
  std::vector<PortTrafficPolicy> port_level_settings;
  // tunnel, proxyProtocol, retryBudget: not implemented; read so validation
  // can check them as istiod does and say they are ignored.
  struct Tunnel {
    std::string protocol;  // as written; "" = CONNECT
    std::string target_host;
    uint32_t target_port = 0;
  };
  std::optional<Tunnel> tunnel;
  std::optional<std::string> proxy_protocol_version;  // upper-cased; engaged when `proxyProtocol:` is written
  bool has_retry_budget = false;
};

}  // namespace torii::config
