// DestinationRule trafficPolicy checks (istiod val.go: validateTrafficPolicy,
// validateConnectionPool, validateOutlierDetection, validateLoadBalancer,
// validatePortTrafficPolicies, agent.ValidateLocalityLbSetting). Messages
// follow istiod's wording.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "config/names.h"
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
    if (h.http2_keepalive && h.http2_keepalive_interval_ms < 0)
      r.error(field + ".http.http2KeepAlive.interval", "http2 keepalive interval is required");
    if (h.http2_keepalive && h.http2_keepalive_timeout_ms < 0)
      r.error(field + ".http.http2KeepAlive.timeout", "http2 keepalive timeout is required");
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

// agent.validateLocalities: "region[/zone[/subzone]]" (no empty part; a
// subzone may hold more '/'), at most one '*' and only at the end, and no
// locality overlapping an earlier one ("us" covers "us/z1", "*" covers all).
// Returns the first problem, as istiod does.
std::string check_localities(const std::vector<std::string>& localities) {
  std::map<std::string, std::map<std::string, std::set<std::string>>> seen;  // region -> zone -> subzones
  for (const std::string& locality : localities) {
    const size_t stars = static_cast<size_t>(std::count(locality.begin(), locality.end(), '*'));
    if (stars > 1 || (stars == 1 && !locality.ends_with('*'))) {
      return "locality " + locality + " wildcard '*' number can not exceed 1 and must be in the end";
    }
    const std::string overlap = "locality " + locality + " overlap with previous specified ones";
    if (seen.contains("*")) return overlap;
    std::vector<std::string> parts;  // SplitN(locality, "/", 3)
    size_t start = 0;
    while (parts.size() < 2) {
      const size_t slash = locality.find('/', start);
      if (slash == std::string::npos) break;
      parts.push_back(locality.substr(start, slash - start));
      start = slash + 1;
    }
    parts.push_back(locality.substr(start));
    for (const std::string& part : parts) {
      if (part.empty()) return "locality " + locality + " must not contain empty region/zone/subzone info";
    }
    auto region = seen.find(parts[0]);
    if (parts.size() == 1) {
      if (region != seen.end()) return overlap;
      seen[parts[0]]["*"].insert("*");
      continue;
    }
    if (region != seen.end() && region->second.contains("*")) return overlap;
    auto& zones = seen[parts[0]];
    auto zone = zones.find(parts[1]);
    if (parts.size() == 2) {
      if (zone != zones.end()) return overlap;
      zones[parts[1]].insert("*");
      continue;
    }
    if (zone != zones.end() && (zone->second.contains("*") || zone->second.contains(parts[2])))
      return overlap;
    zones[parts[1]].insert(parts[2]);
  }
  return "";
}

bool is_topology_label(const std::string& key) {
  return key == "topology.kubernetes.io/region" || key == "topology.kubernetes.io/zone" ||
         key == "topology.istio.io/subzone";
}

// agent.ValidateLocalityLbSetting.
void check_locality(Report& r, const std::string& field, const LocalityLbSetting& l, bool has_outlier) {
  if (!l.distribute.empty() && !l.failover.empty()) {
    r.error(field, "can not simultaneously specify 'distribute' and 'failover'");
    return;
  }
  if (!l.failover.empty()) {
    for (const std::string& key : l.failover_priority) {
      if (is_topology_label(key)) {
        r.error(field + ".failoverPriority", "can not simultaneously set 'failover' and topology label '" +
                                                 key + "' in 'failover_priority'");
        return;
      }
    }
  }
  std::vector<std::string> froms;
  for (size_t i = 0; i < l.distribute.size(); ++i) {
    const auto& d = l.distribute[i];
    const std::string f = at(field + ".distribute", i);
    froms.push_back(d.from);
    uint32_t total = 0;
    std::vector<std::string> tos;
    for (const auto& [to, weight] : d.to) {
      tos.push_back(to);
      if (weight < 1 || weight > 100) {
        r.error(entry(f + ".to", to), "locality weight must be in range [1, 100]");
        return;
      }
      total += weight;
    }
    if (total != 100) {
      r.error(f + ".to", "total locality weight " + std::to_string(total) + " != 100");
      return;
    }
    r.error_unless_empty(f + ".to", check_localities(tos));
  }
  r.error_unless_empty(field + ".distribute", check_localities(froms));
  if ((!l.failover.empty() || !l.failover_priority.empty()) && !has_outlier) {
    r.warning(field, "outlier detection policy must be provided for failover");
  }
  for (size_t i = 0; i < l.failover.size(); ++i) {
    const auto& fo = l.failover[i];
    const std::string f = at(field + ".failover", i);
    if (fo.from == fo.to) r.error(f, "locality lb failover settings must specify different regions");
    if (fo.from.find('/') != std::string::npos || fo.to.find('/') != std::string::npos)
      r.error(f, "locality lb failover only specify region");
    if (fo.from.find('*') != std::string::npos || fo.to.find('*') != std::string::npos)
      r.error(f, "locality lb failover region should not contain '*' wildcard");
  }
}

// agent.ValidateZoneAwareLbSetting; Torii does not implement zone-aware
// balancing, so a valid setting is ignored with a warning.
void check_zone_aware(Report& r, const std::string& field, const LoadBalancerSettings::ZoneAware& z,
                      bool has_outlier) {
  for (const std::string& key : z.failover_priority) {
    if (is_topology_label(key)) {
      r.error(field + ".failoverPriority",
              "'failover_priority' for zone aware lb must not use topology label '" + key +
                  "'; region- and zone-level routing are handled automatically");
    }
  }
  if ((!z.failover.empty() || !z.failover_priority.empty()) && !has_outlier) {
    r.warning(field, "outlier detection policy must be provided for failover");
  }
  for (size_t i = 0; i < z.failover.size(); ++i) {
    const auto& fo = z.failover[i];
    const std::string f = at(field + ".failover", i);
    if (fo.from == fo.to) r.error(f, "zone aware lb failover settings must specify different regions");
    if (fo.from.find('/') != std::string::npos || fo.to.find('/') != std::string::npos) {
      r.error(f,
              "zone aware lb failover only specifies region; zone and subzone failover are handled "
              "automatically");
    }
    if (fo.from.find('*') != std::string::npos || fo.to.find('*') != std::string::npos)
      r.error(f, "zone aware lb failover region should not contain '*' wildcard");
  }
  r.warning(field,
            "zoneAwareLbSetting is not implemented by Torii; ignored (endpoints are balanced as if it "
            "were not set)");
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
        if (name.empty()) {
          r.error(f + ".httpCookie.attributes", "cookie attribute name cannot be empty");
        } else if (!names.insert(name).second) {
          r.error(f + ".httpCookie.attributes", "duplicate cookie attribute name: " + name);
        }
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
  if (lb.locality_lb_setting && lb.zone_aware_lb_setting)
    r.error(field, "only one of localityLbSetting and zoneAwareLbSetting can be set");
  if (lb.locality_lb_setting)
    check_locality(r, field + ".localityLbSetting", *lb.locality_lb_setting, has_outlier);
  if (lb.zone_aware_lb_setting)
    check_zone_aware(r, field + ".zoneAwareLbSetting", *lb.zone_aware_lb_setting, has_outlier);
  if (lb.warmup_block) {
    if (lb.warmup_duration_ms < 0) {
      r.error(field + ".warmup.duration", "duration is required");
    } else {
      check_nonzero_duration(r, field + ".warmup.duration", lb.warmup_duration_ms);
    }
    if (lb.warmup_minimum_percent > 100)
      r.error(field + ".warmup.minimumPercent", "minimumPercent value should be less than or equal to 100");
    // The CRD schema's `minimum: 0`.
    if (lb.warmup_minimum_percent < 0)
      r.error(field + ".warmup.minimumPercent", "should be greater than or equal to 0");
    if (!(lb.warmup_aggression > 0))
      r.error(field + ".warmup.aggression", "aggression should be greater than 0");
  }
}

// agent.ValidateTLS. `namespace_`: the DestinationRule's.
void check_tls(Report& r, const std::string& field, const ClientTLSSettings& tls,
               const std::string& namespace_) {
  static const std::set<std::string> kModes = {"", "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"};
  if (!kModes.contains(tls.mode)) r.error(field + ".mode", "unknown TLS mode " + tls.mode);
  constexpr std::string_view kConfigMap = "configmap://";
  if (tls.credential_name.starts_with(kConfigMap)) {
    // credentials.ParseResourceName: "configmap://[namespace/]name".
    const std::string rest = tls.credential_name.substr(kConfigMap.size());
    const size_t slash = rest.find('/');
    const std::string ns = slash == std::string::npos ? namespace_ : rest.substr(0, slash);
    const std::string name = slash == std::string::npos ? rest : rest.substr(slash + 1);
    if (name.empty() || ns.empty() || name.find('/') != std::string::npos) {
      r.error(field + ".credentialName",
              "invalid configmap:// credentialName: invalid resource name " + quote(tls.credential_name));
    } else if (ns != namespace_) {
      r.error(field + ".credentialName",
              "invalid configmap:// credentialName: namespace must match the configuration namespace " +
                  quote(namespace_));
    }
  }
  if (tls.insecure_skip_verify) {
    if (tls.mode == "SIMPLE" &&
        (!tls.ca_certificates.empty() || !tls.credential_name.empty() || !tls.subject_alt_names.empty())) {
      r.error(field,
              "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify "
              "is set true");
    }
    if (tls.mode == "MUTUAL" && (!tls.ca_certificates.empty() || !tls.subject_alt_names.empty())) {
      r.error(field, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true");
    }
  }
  if (!tls.ca_crl.empty()) {
    r.warning(field + ".caCrl",
              "caCrl is not implemented by Torii; the upstream certificate is not checked "
              "for revocation");
  }
  if ((tls.mode == "SIMPLE" || tls.mode == "MUTUAL") && !tls.credential_name.empty()) {
    // The credential supplies the certificates.
    if (!tls.client_certificate.empty() || !tls.ca_certificates.empty() || !tls.private_key.empty() ||
        !tls.ca_crl.empty()) {
      r.error(field,
              "cannot specify client certificates or CA certificate or CA CRL If credentialName is set");
    }
    return;
  }
  if (tls.mode == "MUTUAL") {
    if (tls.client_certificate.empty())
      r.error(field + ".clientCertificate", "client certificate required for mutual tls");
    if (tls.private_key.empty()) r.error(field + ".privateKey", "private key required for mutual tls");
  }
}

// The four groups a port-level policy shares with the top level
// (TrafficPolicy or PortTrafficPolicy).
template <typename Policy>
void check_groups(Report& r, const std::string& field, const Policy& p, const std::string& namespace_) {
  if (p.outlier_detection) check_outlier_detection(r, field + ".outlierDetection", *p.outlier_detection);
  if (p.connection_pool) check_connection_pool(r, field + ".connectionPool", *p.connection_pool);
  if (p.load_balancer)
    check_load_balancer(r, field + ".loadBalancer", *p.load_balancer, p.outlier_detection.has_value());
  if (p.tls) check_tls(r, field + ".tls", *p.tls, namespace_);
}

// validateTunnelSettings / validateProxyProtocol, and what Torii does with them.
void check_unimplemented_groups(Report& r, const std::string& field, const TrafficPolicy& p) {
  if (p.tunnel) {
    const TrafficPolicy::Tunnel& t = *p.tunnel;
    const std::string f = field + ".tunnel";
    if (!t.protocol.empty() && t.protocol != "CONNECT" && t.protocol != "POST")
      r.error(f + ".protocol", "tunnel protocol must be \"CONNECT\" or \"POST\"");
    const std::string fqdn_error = check_fqdn(t.target_host);
    const std::string ip_error = check_ip_address(t.target_host);
    if (!fqdn_error.empty() && !ip_error.empty()) {
      r.error(f + ".targetHost",
              "tunnel target host must be valid FQDN or IP address: " + fqdn_error + "; " + ip_error);
    }
    if (std::string err = check_port(t.target_port); !err.empty())
      r.error(f + ".targetPort", "tunnel target port is invalid: " + err);
    r.warning(f, "tunnel is not implemented by Torii; ignored (connections go to the endpoints directly)");
  }
  if (p.proxy_protocol_version) {
    const std::string& v = *p.proxy_protocol_version;
    if (!v.empty() && v != "V1" && v != "V2")
      r.error(field + ".proxyProtocol.version", "proxy protocol version is invalid: " + v);
    r.warning(field + ".proxyProtocol",
              "proxyProtocol is not implemented by Torii; ignored (no PROXY header is sent upstream)");
  }
  if (p.has_retry_budget)
    r.warning(field + ".retryBudget", "retryBudget is not implemented by Torii; ignored");
}

}  // namespace

void check_traffic_policy(Report& r, const std::string& field, const TrafficPolicy& p,
                          const std::string& namespace_) {
  if (!p.load_balancer && !p.connection_pool && !p.outlier_detection && !p.tls &&
      p.port_level_settings.empty() && !p.tunnel && !p.proxy_protocol_version && !p.has_retry_budget) {
    r.error(field, "traffic policy must have at least one field");
    return;
  }
  if (p.tunnel && p.proxy_protocol_version) {
    r.error(field, "tunnel and proxyProtocol must not be set together");
    return;
  }
  check_groups(r, field, p, namespace_);
  std::set<uint32_t> ports;
  for (size_t i = 0; i < p.port_level_settings.size(); ++i) {
    const PortTrafficPolicy& port = p.port_level_settings[i];
    const std::string f = at(field + ".portLevelSettings", i);
    if (!port.port_set) {
      r.error(f + ".port", "portTrafficPolicy must have valid port");
    } else if (port.port == 0) {
      // istiod accepts it; no cluster has port 0.
      r.warning(f + ".port", "port 0 matches no service port; this entry never applies");
    } else if (!ports.insert(port.port).second) {
      // istiod accepts duplicates and uses the first; say so.
      r.warning(f + ".port",
                "port " + std::to_string(port.port) + " is already set by an earlier entry; ignored");
    }
    if (!port.outlier_detection && !port.connection_pool && !port.load_balancer && !port.tls) {
      r.error(f, "port traffic policy must have at least one field");
      continue;
    }
    check_groups(r, f, port, namespace_);
  }
  check_unimplemented_groups(r, field, p);
}

}  // namespace torii::config
