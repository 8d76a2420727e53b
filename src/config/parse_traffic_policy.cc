// DestinationRule trafficPolicy: YAML -> config::TrafficPolicy.
//
// Only types are checked here; values (ranges, exclusivity, required fields)
// are validate_traffic_policy.cc's job.
#include <cstdlib>

#include "config/parsers.h"

namespace torii::config {
namespace {

std::optional<uint32_t> optional_uint32(const Field& f) {
  if (!f.present()) return std::nullopt;
  return f.uint32();
}

// A protobuf double (warmup.minimumPercent, warmup.aggression).
double read_double(const Field& f, double fallback) {
  if (!f.present()) return fallback;
  if (!f.node().IsScalar()) {
    f.error("expected a number");
    return fallback;
  }
  const std::string& text = f.node().Scalar();
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    f.error("expected a number, got \"" + text + "\"");
    return fallback;
  }
  return v;
}

LocalityLbSetting read_locality(const Field& f) {
  LocalityLbSetting out;
  for (const Field& d : f["distribute"].items()) {
    LocalityLbSetting::Distribute item;
    if (d.expect_map()) {
      item.from = d["from"].string();
      for (const auto& [locality, weight] : d["to"].entries())
        item.to.emplace_back(locality, weight.uint32());
    }
    out.distribute.push_back(std::move(item));
  }
  for (const Field& d : f["failover"].items()) {
    LocalityLbSetting::Failover item;
    if (d.expect_map()) {
      item.from = d["from"].string();
      item.to = d["to"].string();
    }
    out.failover.push_back(std::move(item));
  }
  out.failover_priority = f["failoverPriority"].strings();
  out.enabled = f["enabled"].optional_boolean();
  return out;
}

std::optional<LoadBalancerSettings> read_load_balancer(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  LoadBalancerSettings out;
  out.simple = f["simple"].upper_string();
  const Field ch = f["consistentHash"];
  if (ch.expect_map()) {
    LoadBalancerSettings::ConsistentHash hash;
    hash.http_header_name = ch["httpHeaderName"].string();
    if (ch["httpHeaderName"].present()) ++hash.key_count;
    const Field cookie = ch["httpCookie"];
    if (cookie.expect_map()) {
      ++hash.key_count;
      LoadBalancerSettings::HttpCookie c;
      c.name = cookie["name"].string();
      c.path = cookie["path"].string();
      c.ttl_ms = cookie["ttl"].duration_ms();
      for (const Field& a : cookie["attributes"].items()) {
        if (a.expect_map()) c.attributes.emplace_back(a["name"].string(), a["value"].string());
      }
      hash.http_cookie = std::move(c);
    }
    hash.use_source_ip = ch["useSourceIp"].boolean();
    if (ch["useSourceIp"].present()) ++hash.key_count;
    hash.http_query_parameter_name = ch["httpQueryParameterName"].string();
    if (ch["httpQueryParameterName"].present()) ++hash.key_count;
    const Field ring = ch["ringHash"];
    if (ring.expect_map()) {
      hash.ring_hash = true;
      hash.ring_hash_minimum_ring_size = ring["minimumRingSize"].uint32();
    }
    const Field maglev = ch["maglev"];
    if (maglev.expect_map()) {
      hash.maglev = true;
      hash.maglev_table_size = maglev["tableSize"].uint32();
    }
    hash.minimum_ring_size = ch["minimumRingSize"].uint32();
    out.consistent_hash = std::move(hash);
  }
  const Field locality = f["localityLbSetting"];
  if (locality.expect_map()) out.locality_lb_setting = read_locality(locality);
  const Field zone_aware = f["zoneAwareLbSetting"];
  if (zone_aware.expect_map()) {
    LoadBalancerSettings::ZoneAware z;
    z.failover = read_locality(zone_aware).failover;
    z.failover_priority = zone_aware["failoverPriority"].strings();
    out.zone_aware_lb_setting = std::move(z);
  }
  const Field warmup_secs = f["warmupDurationSecs"];
  if (warmup_secs.present()) out.warmup_duration_ms = warmup_secs.duration_ms();
  const Field warmup = f["warmup"];
  if (warmup.expect_map()) {
    out.warmup_block = true;
    out.warmup_duration_ms = warmup["duration"].duration_ms();
    out.warmup_minimum_percent = read_double(warmup["minimumPercent"], 10.0);
    out.warmup_aggression = read_double(warmup["aggression"], 1.0);
  }
  return out;
}

std::optional<ConnectionPoolSettings> read_connection_pool(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  ConnectionPoolSettings out;
  const Field tcp = f["tcp"];
  if (tcp.expect_map()) {
    ConnectionPoolSettings::Tcp t;
    t.max_connections = tcp["maxConnections"].uint32();
    t.connect_timeout_ms = tcp["connectTimeout"].duration_ms();
    const Field ka = tcp["tcpKeepalive"];
    if (ka.expect_map()) {
      TcpKeepalive k;
      k.probes = ka["probes"].uint32();
      k.time_ms = ka["time"].duration_ms();
      k.interval_ms = ka["interval"].duration_ms();
      t.tcp_keepalive = k;
    }
    t.max_connection_duration_ms = tcp["maxConnectionDuration"].duration_ms();
    t.idle_timeout_ms = tcp["idleTimeout"].duration_ms();
    out.tcp = t;
  }
  const Field http = f["http"];
  if (http.expect_map()) {
    ConnectionPoolSettings::Http h;
    h.http1_max_pending_requests = http["http1MaxPendingRequests"].uint32();
    h.http2_max_requests = http["http2MaxRequests"].uint32();
    h.max_requests_per_connection = http["maxRequestsPerConnection"].uint32();
    h.max_retries = http["maxRetries"].uint32();
    h.idle_timeout_ms = http["idleTimeout"].duration_ms();
    h.h2_upgrade_policy = http["h2UpgradePolicy"].upper_string();
    h.use_client_protocol = http["useClientProtocol"].boolean();
    h.max_concurrent_streams = http["maxConcurrentStreams"].uint32();
    const Field ka = http["http2KeepAlive"];
    if (ka.expect_map()) {
      h.http2_keepalive = true;
      h.http2_keepalive_interval_ms = ka["interval"].duration_ms();
      h.http2_keepalive_timeout_ms = ka["timeout"].duration_ms();
    }
    out.http = h;
  }
  return out;
}

std::optional<OutlierDetection> read_outlier_detection(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  OutlierDetection out;
  out.consecutive_errors = optional_uint32(f["consecutiveErrors"]);
  out.consecutive_5xx_errors = optional_uint32(f["consecutive5xxErrors"]);
  out.consecutive_gateway_errors = optional_uint32(f["consecutiveGatewayErrors"]);
  out.consecutive_local_origin_failures = optional_uint32(f["consecutiveLocalOriginFailures"]);
  out.split_external_local_origin_errors = f["splitExternalLocalOriginErrors"].boolean();
  out.interval_ms = f["interval"].duration_ms();
  out.base_ejection_time_ms = f["baseEjectionTime"].duration_ms();
  out.max_ejection_percent = f["maxEjectionPercent"].int32();
  out.min_health_percent_set = f["minHealthPercent"].present();
  out.min_health_percent = f["minHealthPercent"].int32();
  return out;
}

std::optional<ClientTLSSettings> read_client_tls(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  ClientTLSSettings out;
  out.mode = f["mode"].upper_string();
  out.client_certificate = f["clientCertificate"].string();
  out.private_key = f["privateKey"].string();
  out.ca_certificates = f["caCertificates"].string();
  out.ca_crl = f["caCrl"].string();
  out.credential_name = f["credentialName"].string();
  out.subject_alt_names = f["subjectAltNames"].strings();
  out.sni = f["sni"].string();
  out.insecure_skip_verify = f["insecureSkipVerify"].boolean();
  return out;
}

}  // namespace

std::optional<TrafficPolicy> read_traffic_policy(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  TrafficPolicy out;
  out.load_balancer = read_load_balancer(f["loadBalancer"]);
  out.connection_pool = read_connection_pool(f["connectionPool"]);
  out.outlier_detection = read_outlier_detection(f["outlierDetection"]);
  out.tls = read_client_tls(f["tls"]);
  for (const Field& p : f["portLevelSettings"].items()) {
    PortTrafficPolicy port;
    if (p.expect_map()) {
      const Field selector = p["port"];
      port.port_set = selector.present();
      if (selector.expect_map()) port.port = selector["number"].uint32();
      port.load_balancer = read_load_balancer(p["loadBalancer"]);
      port.connection_pool = read_connection_pool(p["connectionPool"]);
      port.outlier_detection = read_outlier_detection(p["outlierDetection"]);
      port.tls = read_client_tls(p["tls"]);
    }
    out.port_level_settings.push_back(std::move(port));
  }
  const Field tunnel = f["tunnel"];
  if (tunnel.expect_map()) {
    TrafficPolicy::Tunnel t;
    t.protocol = tunnel["protocol"].string();
    t.target_host = tunnel["targetHost"].string();
    t.target_port = tunnel["targetPort"].uint32();
    out.tunnel = std::move(t);
  }
  const Field proxy_protocol = f["proxyProtocol"];
  if (proxy_protocol.expect_map()) out.proxy_protocol_version = proxy_protocol["version"].upper_string();
  out.has_retry_budget = f["retryBudget"].present();
  return out;
}

}  // namespace torii::config
