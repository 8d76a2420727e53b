// DestinationRule trafficPolicy checks (istiod val.go: validateTrafficPolicy,
// validateConnectionPool, validateOutlierDetection, validateLoadBalancer,
// validatePortTrafficPolicies, agent.ValidateLocalityLbSetting). Messages
// follow istiod's wording.
#include <cmath>
#include <map>
#include <set>

#include "config/validate_common.h"

namespace torii::config {
namespace {

// Envoy's (and istiod's) primality test for maglev table sizes.
bool is_prime(uint64_t x) {
  if (x != 0 && x < 4) return true;
  if ((x & 1) == 0) return false;
  auto limit = static_cast<uint64_t>(std::sqrt(static_cast<double>(x)));
  for (uint64_t factor = 3; factor <= limit; factor += 2) {
    if (x % factor == 0) return false;
  }
  return true;
}

// agent.ValidateDuration: >= 1 ms (sub-ms precision is refused by the reader).
void check_nonzero_duration(Report& r, const std::string& field, int64_t ms) {
  if (ms == 0) r.error(field, "duration must be greater than 1ms");
}

void check_percent(Report& r, const std::string& field, int32_t value) {
  if (value < 0 || value > 100)
    r.error(field, "percentage " + std::to_string(value) + " is not in range 0..100");
}

void check_connection_pool(Report& r, const std::string& field, const ConnectionPoolSettings& cp) {
  if (!cp.http && !cp.tcp) {
    r.error(field, "connection pool must have at least one field");
    return;
  }
  if (cp.http) {
    const auto& h = *cp.http;
    check_nonzero_duration(r, field + ".http.idleTimeout", h.idle_timeout_ms);
    if (h.h2_upgrade_policy == "UPGRADE" && h.use_client_protocol) {
      r.error(field + ".http.useClientProtocol",
              "use client protocol must not be true when H2UpgradePolicy is UPGRADE");
    }
    if (!h.h2_upgrade_policy.empty() && h.h2_upgrade_policy != "DEFAULT" &&
        h.h2_upgrade_policy != "DO_NOT_UPGRADE" && h.h2_upgrade_policy != "UPGRADE") {
      r.error(field + ".http.h2UpgradePolicy", "unknown h2UpgradePolicy " + h.h2_upgrade_policy);
    }
    if (h.http2_keepalive && (h.http2_keepalive_interval_ms < 0 || h.http2_keepalive_timeout_ms < 0)) {
      r.error(field + ".http.http2KeepAlive", "http2KeepAlive requires both interval and timeout");
    }
  }
  if (cp.tcp) {
    const auto& t = *cp.tcp;
    check_nonzero_duration(r, field + ".tcp.connectTimeout", t.connect_timeout_ms);
    check_nonzero_duration(r, field + ".tcp.maxConnectionDuration", t.max_connection_duration_ms);
    // tcp.idleTimeout: 0s disables the timeout and is valid.
    if (t.tcp_keepalive) {
      check_nonzero_duration(r, field + ".tcp.tcpKeepalive.time", t.tcp_keepalive->time_ms);
      check_nonzero_duration(r, field + ".tcp.tcpKeepalive.interval", t.tcp_keepalive->interval_ms);
    }
  }
}

void check_outlier_detection(Report& r, const std::string& field, const OutlierDetection& od) {
  check_nonzero_duration(r, field + ".baseEjectionTime", od.base_ejection_time_ms);
  if (od.consecutive_errors && *od.consecutive_errors != 0) {
    r.warning(field + ".consecutiveErrors",
              "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or "
              "consecutive5xxErrors instead");
  }
  if (!od.split_external_local_origin_errors && od.consecutive_local_origin_failures.value_or(0) > 0) {
    r.error(field + ".consecutiveLocalOriginFailures",
            "outlier detection consecutive local origin failures is specified, but split external local "
            "origin errors is set to false");
  }
  check_nonzero_duration(r, field + ".interval", od.interval_ms);
  check_percent(r, field + ".maxEjectionPercent", od.max_ejection_percent);
  check_percent(r, field + ".minHealthPercent", od.min_health_percent);
}

// "region/zone/subzone" with an optional trailing "*" segment.
bool valid_locality(const std::string& locality, bool allow_wildcard) {
  if (locality.empty()) return false;
  size_t parts = 1;
  for (char c : locality) parts += c == '/' ? 1 : 0;
  if (parts > 3) return false;
  size_t star = locality.find('*');
  if (star == std::string::npos) return true;
  return allow_wildcard && star == locality.size() - 1 && (star == 0 || locality[star - 1] == '/');
}

void check_locality(Report& r, const std::string& field, const LocalityLbSetting& l, bool has_outlier) {
  if (!l.distribute.empty() && !l.failover.empty()) {
    r.error(field, "can not simultaneously set 'distribute' and 'failover'");
    return;
  }
  std::set<std::string> froms;
  for (size_t i = 0; i < l.distribute.size(); ++i) {
    const auto& d = l.distribute[i];
    const std::string f = at(field + ".distribute", i);
    if (!valid_locality(d.from, true)) r.error(f + ".from", "locality " + d.from + " is invalid");
    if (!froms.insert(d.from).second) r.error(f + ".from", "locality is duplicated: " + d.from);
    uint32_t total = 0;
    for (const auto& [to, weight] : d.to) {
      if (!valid_locality(to, true)) r.error(f + ".to", "locality " + to + " is invalid");
      if (weight < 1 || weight > 100)
        r.error(entry(f + ".to", to), "locality weight must be in range [1, 100]");
      total += weight;
    }
    if (total != 100) r.error(f + ".to", "total locality weight " + std::to_string(total) + " != 100");
  }
  bool region_priority = false;
  for (const std::string& key : l.failover_priority) {
    std::string k = key.substr(0, key.find('='));
    if (k == "topology.kubernetes.io/region" || k == "topology.kubernetes.io/zone" ||
        k == "topology.istio.io/subzone")
      region_priority = true;
  }
  for (size_t i = 0; i < l.failover.size(); ++i) {
    const auto& fo = l.failover[i];
    const std::string f = at(field + ".failover", i);
    if (fo.from == fo.to) r.error(f, "locality lb failover settings must specify different regions");
    if (fo.from.empty() || fo.from.find('/') != std::string::npos || fo.from.find('*') != std::string::npos)
      r.error(f + ".from", "locality lb failover only supports region, got \"" + fo.from + "\"");
    if (fo.to.empty() || fo.to.find('/') != std::string::npos || fo.to.find('*') != std::string::npos)
      r.error(f + ".to", "locality lb failover only supports region, got \"" + fo.to + "\"");
  }
  if (!l.failover.empty() && region_priority) {
    r.error(field + ".failoverPriority",
            "failoverPriority can not include topology labels when failover is also set");
  }
  if ((!l.failover.empty() || !l.failover_priority.empty()) && !has_outlier) {
    r.warning(field, "outlier detection policy must be provided for failover");
  }
}

void check_load_balancer(Report& r, const std::string& field, const LoadBalancerSettings& lb,
                         bool has_outlier) {
  static const std::set<std::string> kSimple = {"",       "UNSPECIFIED", "LEAST_CONN", "LEAST_REQUEST",
                                                "RANDOM", "PASSTHROUGH", "ROUND_ROBIN"};
  if (!kSimple.contains(lb.simple)) r.error(field + ".simple", "unknown load balancer " + lb.simple);
  if (!lb.simple.empty() && lb.consistent_hash) {
    r.error(field, "only one of simple or consistentHash can be set");
  }
  if (const auto& ch = lb.consistent_hash) {
    const std::string f = field + ".consistentHash";
    if (ch->key_count > 1) {
      r.error(f, "only one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName can be set");
    }
    if (ch->http_cookie) {
      if (ch->http_cookie->name.empty()) r.error(f + ".httpCookie.name", "name required for HttpCookie");
      std::set<std::string> names;
      for (const auto& [name, value] : ch->http_cookie->attributes) {
        if (name.empty()) r.error(f + ".httpCookie.attributes", "cookie attribute name is required");
        if (!names.insert(name).second)
          r.error(f + ".httpCookie.attributes", "cookie attribute name " + name + " is duplicated");
      }
    }
    if (ch->minimum_ring_size != 0) {
      r.warning(
          f + ".minimumRingSize",
          "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration "
          "instead");
      if (ch->ring_hash || ch->maglev)
        r.error(f, "only one of MinimumRingSize or Maglev/Ringhash can be specified");
    }
    if (ch->ring_hash && ch->maglev) r.error(f, "only one of ringHash or maglev can be set");
    if (ch->maglev) {
      if (ch->maglev_table_size == 0) r.error(f + ".maglev.tableSize", "tableSize must be set for maglev");
      if (ch->maglev_table_size >= 5000011)
        r.error(f + ".maglev.tableSize", "tableSize must be less than 5000011 for maglev");
      if (!is_prime(ch->maglev_table_size))
        r.error(f + ".maglev.tableSize", "tableSize must be a prime number for maglev");
    }
  }
  if (lb.locality_lb_setting) {
    if (lb.zone_aware_lb_setting)
      r.error(field, "only one of localityLbSetting or zoneAwareLbSetting can be set");
    check_locality(r, field + ".localityLbSetting", *lb.locality_lb_setting, has_outlier);
  }
  if (lb.warmup_block) {
    if (lb.warmup_duration_ms < 0) {
      r.error(field + ".warmup.duration", "duration is required");
    } else {
      check_nonzero_duration(r, field + ".warmup.duration", lb.warmup_duration_ms);
    }
    if (lb.warmup_minimum_percent > 100)
      r.error(field + ".warmup.minimumPercent", "minimumPercent value should be less than or equal to 100");
    if (lb.warmup_aggression < 1)
      r.error(field + ".warmup.aggression", "aggression should be greater than or equal to 1");
  }
}

void check_tls(Report& r, const std::string& field, const ClientTLSSettings& tls) {
  static const std::set<std::string> kModes = {"", "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"};
  if (!kModes.contains(tls.mode)) r.error(field + ".mode", "unknown TLS mode " + tls.mode);
  if (tls.mode == "MUTUAL" && tls.credential_name.empty()) {
    if (tls.client_certificate.empty())
      r.error(field + ".clientCertificate", "client certificate required for mutual tls");
    if (tls.private_key.empty()) r.error(field + ".privateKey", "private key required for mutual tls");
  }
}

}  // namespace

void check_traffic_policy(Report& r, const std::string& field, const TrafficPolicy& p) {
  if (!p.load_balancer && !p.connection_pool && !p.outlier_detection && !p.tls &&
      p.port_level_settings.empty() && !p.has_tunnel && !p.has_proxy_protocol) {
    r.error(field, "traffic policy must have at least one field");
    return;
  }
  if (p.has_tunnel && p.has_proxy_protocol) {
    r.error(field, "tunnel and proxyProtocol must not be set together");
  }
  if (p.outlier_detection) check_outlier_detection(r, field + ".outlierDetection", *p.outlier_detection);
  if (p.connection_pool) check_connection_pool(r, field + ".connectionPool", *p.connection_pool);
  if (p.load_balancer)
    check_load_balancer(r, field + ".loadBalancer", *p.load_balancer, p.outlier_detection.has_value());
  if (p.tls) check_tls(r, field + ".tls", *p.tls);
  std::set<uint32_t> ports;
  for (size_t i = 0; i < p.port_level_settings.size(); ++i) {
    const PortTrafficPolicy& port = p.port_level_settings[i];
    const std::string f = at(field + ".portLevelSettings", i);
    if (port.port == 0) {
      r.error(f + ".port", "portTrafficPolicy must have valid port");
    } else if (!ports.insert(port.port).second) {
      // istiod accepts duplicates and uses the first; say so.
      r.warning(f + ".port",
                "port " + std::to_string(port.port) + " is already set by an earlier entry; ignored");
    }
    if (!port.outlier_detection && !port.connection_pool && !port.load_balancer && !port.tls) {
      r.error(f, "port traffic policy must have at least one field");
      continue;
    }
    if (port.outlier_detection) check_outlier_detection(r, f + ".outlierDetection", *port.outlier_detection);
    if (port.connection_pool) check_connection_pool(r, f + ".connectionPool", *port.connection_pool);
    if (port.load_balancer)
      check_load_balancer(r, f + ".loadBalancer", *port.load_balancer, port.outlier_detection.has_value());
    if (port.tls) check_tls(r, f + ".tls", *port.tls);
  }
}

}  // namespace torii::config
