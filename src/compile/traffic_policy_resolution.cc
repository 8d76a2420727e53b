#include "compile/traffic_policy_resolution.h"

#include <algorithm>
#include <cctype>

#include "compile/manifest_path.h"
#include "compile/secret_lookup.h"

namespace torii::compile {

namespace {

// getPortLevelTrafficPolicy: the first entry for `port` replaces the four groups.
config::TrafficPolicy port_level(const config::TrafficPolicy& policy, uint32_t port) {
  config::TrafficPolicy out = policy;
  for (const config::PortTrafficPolicy& p : policy.port_level_settings) {
    if (p.port != port) continue;
    out.load_balancer = p.load_balancer;
    out.connection_pool = p.connection_pool;
    out.outlier_detection = p.outlier_detection;
    out.tls = p.tls;
    break;
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void apply_load_balancer(const config::LoadBalancerSettings& lb, upstream::ClusterPolicy& out,
                         DiagnosticSink* diagnostics, const config::DestinationRule* rule) {
  if (lb.simple == "ROUND_ROBIN") {
    out.lb = upstream::LbPolicy::RoundRobin;
  } else if (lb.simple == "RANDOM") {
    out.lb = upstream::LbPolicy::Random;
  } else if (lb.simple == "PASSTHROUGH") {
    out.lb = upstream::LbPolicy::Passthrough;
    if (diagnostics != nullptr && rule != nullptr) {
      diagnostics->notice(
          kDestinationRuleKind, rule->meta, "spec.trafficPolicy.loadBalancer.simple",
          "PASSTHROUGH forwards to the connection's original destination, which at a gateway is "
          "the gateway itself; Torii balances randomly over the service's endpoints instead");
    }
  } else {
    out.lb = upstream::LbPolicy::LeastRequest;  // LEAST_REQUEST, LEAST_CONN, UNSPECIFIED, unset
  }
  if (const auto& ch = lb.consistent_hash) {
    upstream::HashPolicy& h = out.hash;
    if (!ch->http_header_name.empty()) {
      h.kind = upstream::HashPolicy::Kind::Header;
      h.name = lower(ch->http_header_name);
    } else if (ch->http_cookie) {
      h.kind = upstream::HashPolicy::Kind::Cookie;
      h.name = ch->http_cookie->name;
      h.cookie_path = ch->http_cookie->path;
      h.cookie_ttl_ms = ch->http_cookie->ttl_ms;
      h.cookie_attributes = ch->http_cookie->attributes;
    } else if (ch->use_source_ip) {
      h.kind = upstream::HashPolicy::Kind::SourceIp;
    } else if (!ch->http_query_parameter_name.empty()) {
      h.kind = upstream::HashPolicy::Kind::QueryParameter;
      h.name = ch->http_query_parameter_name;
    }
    // ApplyRingHashLoadBalancer: maglev, ring hash, or (neither) ring hash with
    // the deprecated minimumRingSize or Envoy's 1024.
    if (ch->maglev) {
      out.lb = upstream::LbPolicy::Maglev;
      if (ch->maglev_table_size != 0) out.maglev_table_size = ch->maglev_table_size;
    } else {
      out.lb = upstream::LbPolicy::RingHash;
      if (ch->ring_hash && ch->ring_hash_minimum_ring_size != 0) {
        out.ring_size = ch->ring_hash_minimum_ring_size;
      } else if (!ch->ring_hash && ch->minimum_ring_size != 0) {
        out.ring_size = ch->minimum_ring_size;
      }
    }
  }
  // Slow start: Envoy supports it on ROUND_ROBIN and LEAST_REQUEST only.
  if (lb.warmup_duration_ms > 0 &&
      (out.lb == upstream::LbPolicy::RoundRobin || out.lb == upstream::LbPolicy::LeastRequest)) {
    out.warmup.duration_ms = static_cast<uint64_t>(lb.warmup_duration_ms);
    out.warmup.minimum_percent = lb.warmup_minimum_percent;
    out.warmup.aggression = lb.warmup_aggression;
  }
}

void apply_connection_pool(const config::ConnectionPoolSettings& cp, upstream::ClusterPolicy& out) {
  // Zero means "not set" for the integer fields (istio/api: "0 means unset").
  auto limit = [](uint32_t v) { return v == 0 ? upstream::kUnlimited : static_cast<uint64_t>(v); };
  if (const auto& t = cp.tcp) {
    out.limits.max_connections = limit(t->max_connections);
    if (t->connect_timeout_ms > 0)
      out.connection.connect_timeout_ms = static_cast<uint32_t>(t->connect_timeout_ms);
    if (t->max_connection_duration_ms > 0)
      out.connection.max_connection_duration_ms = t->max_connection_duration_ms;
    // tcp.idleTimeout is also the HTTP idle timeout when http.idleTimeout is unset.
    if (t->idle_timeout_ms >= 0) out.connection.idle_timeout_ms = t->idle_timeout_ms;
    if (t->tcp_keepalive) {
      out.connection.keepalive = true;
      out.connection.keepalive_probes = t->tcp_keepalive->probes;
      if (t->tcp_keepalive->time_ms > 0)
        out.connection.keepalive_time_s =
            static_cast<uint32_t>(std::max<int64_t>(1, t->tcp_keepalive->time_ms / 1000));
      if (t->tcp_keepalive->interval_ms > 0)
        out.connection.keepalive_interval_s =
            static_cast<uint32_t>(std::max<int64_t>(1, t->tcp_keepalive->interval_ms / 1000));
    }
  }
  if (const auto& h = cp.http) {
    out.limits.max_pending_requests = limit(h->http1_max_pending_requests);
    out.limits.max_requests = limit(h->http2_max_requests);
    out.limits.max_retries = limit(h->max_retries);
    out.connection.max_requests_per_connection = h->max_requests_per_connection;
    if (h->idle_timeout_ms >= 0) out.connection.idle_timeout_ms = h->idle_timeout_ms;
    if (h->max_concurrent_streams != 0) out.connection.max_concurrent_streams = h->max_concurrent_streams;
  }
}

void apply_outlier_detection(const config::OutlierDetection& od, upstream::ClusterPolicy& out) {
  upstream::OutlierPolicy& o = out.outlier;
  o.enabled = true;
  // consecutiveErrors (deprecated) only listens to gateway errors.
  if (od.consecutive_errors && *od.consecutive_errors > 0) {
    o.consecutive_5xx = 0;
    o.consecutive_gateway = *od.consecutive_errors;
  }
  if (od.consecutive_5xx_errors) o.consecutive_5xx = *od.consecutive_5xx_errors;
  if (od.consecutive_gateway_errors) o.consecutive_gateway = *od.consecutive_gateway_errors;
  if (od.interval_ms > 0) o.interval_ms = static_cast<uint64_t>(od.interval_ms);
  if (od.base_ejection_time_ms > 0) o.base_ejection_ms = static_cast<uint64_t>(od.base_ejection_time_ms);
  if (od.max_ejection_percent > 0) o.max_ejection_percent = static_cast<uint32_t>(od.max_ejection_percent);
  if (od.split_external_local_origin_errors) {
    o.split_local_origin = true;
    // Envoy's default when split is on and the count is not given: 5.
    o.consecutive_local_origin = od.consecutive_local_origin_failures.value_or(5);
  }
  // Istio always sets the panic threshold when the block is present: 0% by default.
  out.healthy_panic_threshold = static_cast<uint32_t>(std::clamp(od.min_health_percent, 0, 100));
}

// DestinationRule `tls`: TLS origination (Envoy UpstreamTlsContext as Istio
// fills it). A relative file path is taken from the DR's manifest directory.
void apply_tls(const config::ClientTLSSettings& tls, upstream::ClusterPolicy& out,
               DiagnosticSink* diagnostics, const config::DestinationRule* rule,
               const SecretLookup* secrets) {
  auto note = [&](const std::string& message, bool warning) {
    if (diagnostics == nullptr || rule == nullptr) return;
    if (warning) {
      diagnostics->warning(kDestinationRuleKind, rule->meta, "spec.trafficPolicy.tls", message,
                           &rule->meta.source);
    } else {
      diagnostics->notice(kDestinationRuleKind, rule->meta, "spec.trafficPolicy.tls", message,
                          &rule->meta.source);
    }
  };
  if (tls.mode.empty() || tls.mode == "DISABLE") return;
  if (tls.mode == "ISTIO_MUTUAL") {
    note(
        "ISTIO_MUTUAL needs the mesh's workload certificates, which a standalone gateway does not have; "
        "connections to this destination are plaintext",
        false);
    return;
  }
  out.tls.enabled = true;
  out.tls.mode = tls.mode;
  out.tls.sni = tls.sni;
  const config::SourceRef source = rule != nullptr ? rule->meta.source : config::SourceRef{};
  auto resolve = [&](const std::string& path) { return manifest_relative_path(path, source); };
  net::TlsClientConfig config;
  if (!tls.credential_name.empty()) {
    // Istio: at a gateway, the Secret comes from the gateway's namespace; it
    // holds the client certificate and key (MUTUAL) and the CA that verifies
    // the server (ca.crt/cacert, or a Secret <name>-cacert).
    const config::Secret* secret = secrets != nullptr ? secrets->find(tls.credential_name) : nullptr;
    if (secret != nullptr) {
      config.ca_pem = secrets->ca_of(*secret, tls.credential_name);
    } else if (secrets != nullptr && tls.mode == "SIMPLE") {
      config.ca_pem = secrets->separate_ca(tls.credential_name);  // SIMPLE needs only the CA
    }
    if (secret == nullptr && config.ca_pem.empty()) {
      note("credentialName: no Secret \"" + tls.credential_name + "\"" +
               (tls.mode == "SIMPLE" ? " (or \"" + tls.credential_name + "-cacert\")" : std::string()) +
               " in namespace " +
               (secrets != nullptr ? secrets->gateway_namespace() : std::string("(none)")) +
               "; connections to this destination fail",
           true);
      return;
    }
    if (config.ca_pem.empty() && !tls.insecure_skip_verify) {
      note("credentialName: Secret " + secret->meta.namespace_ + "/" + secret->meta.name +
               " has no ca.crt (or cacert) and there is no Secret \"" + tls.credential_name +
               "-cacert\"; the server is verified against the system's trusted CAs",
           false);
    }
    // caCertificates beside credentialName: refused by validation (istiod's ValidateTLS).
    if (tls.mode == "MUTUAL") {
      config.cert_pem = SecretLookup::value(*secret, "tls.crt", "cert");
      config.key_pem = SecretLookup::value(*secret, "tls.key", "key");
      if (config.cert_pem.empty() || config.key_pem.empty()) {
        note("credentialName: Secret " + secret->meta.namespace_ + "/" + secret->meta.name +
                 " has no tls.crt and tls.key (or cert and key); connections to this destination fail",
             true);
        return;
      }
    }
  } else {
    config.ca_file = resolve(tls.ca_certificates);
  }
  config.subject_alt_names = tls.subject_alt_names;
  config.insecure_skip_verify = tls.insecure_skip_verify;
  config.verify_sni = tls.sni.empty();  // auto_sni + auto_san_validation
  // ALPN says which HTTP the connection carries (Istio: ALPNH2Only for an
  // HTTP/2 cluster). useClientProtocol needs both: a second context for h2.
  config.alpn = {out.protocol == upstream::UpstreamProtocol::Http2 ? "h2" : "http/1.1"};
  if (tls.mode == "MUTUAL" && tls.credential_name.empty()) {
    config.cert_file = resolve(tls.client_certificate);
    config.key_file = resolve(tls.private_key);
  }
  std::string identity = tls.mode + '\n' + tls.sni + '\n' + config.ca_file + '\n' + config.cert_file + '\n' +
                         config.key_file + '\n' + config.ca_pem + '\n' + config.cert_pem + '\n' +
                         config.key_pem + '\n' + (config.insecure_skip_verify ? "skip" : "verify");
  for (const std::string& san : config.subject_alt_names) identity += '\n' + san;
  out.tls.fingerprint = std::hash<std::string>{}(identity);
  std::string error;
  out.tls.context = net::TlsContext::client(config, error);
  if (!out.tls.context) note(error + "; connections to this destination fail", true);
  if (out.tls.context && out.protocol == upstream::UpstreamProtocol::Downstream) {
    config.alpn = {"h2"};
    out.tls.context_h2 = net::TlsContext::client(config, error);
  }
}

}  // namespace

std::optional<config::TrafficPolicy> merge_traffic_policy(const config::TrafficPolicy* top,
                                                          const config::TrafficPolicy* subset,
                                                          uint32_t port) {
  std::optional<config::TrafficPolicy> original;
  if (top != nullptr) original = port_level(*top, port);
  if (subset == nullptr) return original;
  config::TrafficPolicy sub = port_level(*subset, port);
  if (!original) return sub;
  config::TrafficPolicy merged = *original;
  if (sub.connection_pool) merged.connection_pool = sub.connection_pool;
  if (sub.outlier_detection) merged.outlier_detection = sub.outlier_detection;
  if (sub.load_balancer) merged.load_balancer = sub.load_balancer;
  if (sub.tls) merged.tls = sub.tls;
  if (sub.tunnel) merged.tunnel = sub.tunnel;
  if (sub.proxy_protocol_version) merged.proxy_protocol_version = sub.proxy_protocol_version;
  if (sub.has_retry_budget) merged.has_retry_budget = true;
  return merged;
}

upstream::ClusterPolicy compile_cluster_policy(const config::TrafficPolicy* merged,
                                               DiagnosticSink* diagnostics,
                                               const config::DestinationRule* rule,
                                               const SecretLookup* secrets, PortProtocol port_protocol) {
  upstream::ClusterPolicy out;
  const config::ConnectionPoolSettings::Http* http =
      merged != nullptr && merged->connection_pool && merged->connection_pool->http
          ? &*merged->connection_pool->http
          : nullptr;
  out.protocol = select_upstream_protocol(port_protocol, http);
  if (merged == nullptr) return out;
  if (merged->load_balancer) apply_load_balancer(*merged->load_balancer, out, diagnostics, rule);
  if (merged->connection_pool) apply_connection_pool(*merged->connection_pool, out);
  if (merged->outlier_detection) apply_outlier_detection(*merged->outlier_detection, out);
  if (merged->tls) apply_tls(*merged->tls, out, diagnostics, rule, secrets);
  return out;
}

}  // namespace torii::compile
