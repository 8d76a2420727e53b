#include "admin/config_dump.h"

#include "explain/route_policies_json.h"

namespace torii::admin {

using nlohmann::json;

namespace {

json matcher_json(const router::StringMatcher& m) {
  json j = {{router::kind_name(m.kind), m.value}};
  if (m.ignore_case) j["ignore_case"] = true;
  return j;
}

json route_json(const router::Route& r) {
  json match = {{"path", matcher_json(r.match.path)}};
  for (const auto& h : r.match.headers) {
    json hj = {{"name", h.name}, {"value", matcher_json(h.value)}};
    if (h.invert) hj["invert"] = true;
    match["headers"].push_back(hj);
  }
  for (const auto& q : r.match.query_params) {
    match["query_params"].push_back({{"name", q.name}, {"value", matcher_json(q.value)}});
  }
  json clusters = json::array();
  for (const auto& wc : r.action.clusters) {
    json c = {{"name", wc.name}, {"weight", wc.weight}, {"exists", wc.cluster != nullptr}};
    // Forward-proxy routes (compile/forward_proxy_builder.h).
    if (wc.blackhole) c["blackhole"] = true;  // REGISTRY_ONLY: 502
    if (wc.dynamic_host) {
      c["via"] = wc.cluster != nullptr ? wc.cluster->name : "";
      c["resolved_per_request"] = wc.dynamic_name.empty() ? "(the request's host)" : wc.dynamic_name;
    }
    clusters.push_back(std::move(c));
  }
  json j = {{"virtual_service", r.virtual_service},
            {"rule", r.rule_index},
            {"match", match},
            {"clusters", clusters}};
  if (r.match_index >= 0) j["match_index"] = r.match_index;
  if (!r.name.empty()) j["name"] = r.name;
  if (!r.delegate.empty()) {
    j["delegate"] = r.delegate;
    j["delegate_rule"] = r.delegate_rule_index;
  }
  if (r.redirect) {
    j["redirect"] = {{"status", r.redirect->status},
                     {"scheme", r.redirect->scheme},
                     {"host", r.redirect->host},
                     {"port", r.redirect->port},
                     {"path", r.redirect->path}};
    if (r.redirect->prefix_rewrite) j["redirect"]["prefix_rewrite"] = r.redirect->path_prefix;
  }
  if (r.direct_response) {
    j["direct_response"] = {{"status", r.direct_response->status},
                            {"body_bytes", r.direct_response->body.size()}};
  }
  if (r.action.path_rewrite.kind != router::PathRewrite::Kind::None) {
    j["path_rewrite"] = {
        {"kind", r.action.path_rewrite.kind == router::PathRewrite::Kind::Prefix ? "prefix" : "regex"},
        {"replacement", r.action.path_rewrite.replacement}};
  }
  if (!r.action.headers.host_rewrite.empty()) j["host_rewrite"] = r.action.headers.host_rewrite;
  j["policies"] = explain::route_policies_json(r.action.policies);
  return j;
}

json virtual_hosts_json(const router::RouteTable* table) {
  json vhosts = json::array();
  if (table == nullptr) return vhosts;
  for (const auto& vh : table->virtual_hosts()) {
    json routes = json::array();
    for (const auto& r : vh->routes) routes.push_back(route_json(r));
    vhosts.push_back({{"domain", vh->domain}, {"routes", routes}});
  }
  return vhosts;
}

// The effective traffic policy the cluster runs with (after DR lookup,
// subset/port-level layering and Istio's defaults).
json traffic_policy_json(const upstream::ClusterInfo& c) {
  const upstream::ClusterPolicy& p = *c.policy;
  auto limit = [](uint64_t v) -> json { return v >= upstream::kUnlimited ? json("unlimited") : json(v); };
  json lb = {{"policy", upstream::lb_policy_name(p.lb)}};
  if (p.lb == upstream::LbPolicy::RingHash) lb["minimum_ring_size"] = p.ring_size;
  if (p.lb == upstream::LbPolicy::Maglev) lb["table_size"] = p.maglev_table_size;
  if (p.hash.kind != upstream::HashPolicy::Kind::None) {
    static const char* kinds[] = {"none", "header", "cookie", "source_ip", "query_parameter"};
    json h = {{"kind", kinds[static_cast<int>(p.hash.kind)]}, {"name", p.hash.name}};
    if (p.hash.kind == upstream::HashPolicy::Kind::Cookie) {
      h["path"] = p.hash.cookie_path;
      h["ttl_ms"] = p.hash.cookie_ttl_ms;
    }
    lb["hash"] = h;
  }
  if (p.warmup.duration_ms != 0) {
    lb["warmup"] = {{"duration_ms", p.warmup.duration_ms},
                    {"minimum_percent", p.warmup.minimum_percent},
                    {"aggression", p.warmup.aggression}};
  }
  lb["locality_failover"] = p.locality_failover;
  json cb = {{"max_connections", limit(p.limits.max_connections)},
             {"max_pending_requests", limit(p.limits.max_pending_requests)},
             {"max_requests", limit(p.limits.max_requests)},
             {"max_retries", limit(p.limits.max_retries)}};
  json conn = {{"connect_timeout_ms", p.connection.connect_timeout_ms},
               {"max_requests_per_connection", p.connection.max_requests_per_connection},
               {"idle_timeout_ms", p.connection.idle_timeout_ms},
               {"max_connection_duration_ms", p.connection.max_connection_duration_ms},
               {"tcp_keepalive", p.connection.keepalive},
               {"protocol", upstream::upstream_protocol_name(p.protocol)}};
  if (p.protocol != upstream::UpstreamProtocol::Http1)
    conn["max_concurrent_streams"] = p.connection.max_concurrent_streams;
  json out = {{"source", p.source.empty() ? json(nullptr) : json(p.source)},
              {"load_balancer", lb},
              {"circuit_breakers", cb},
              {"connection", conn},
              {"healthy_panic_threshold", p.healthy_panic_threshold}};
  if (p.tls.enabled) {
    out["tls"] = {{"mode", p.tls.mode},
                  {"sni", p.tls.sni.empty() ? json("(the request's host)") : json(p.tls.sni)},
                  {"usable", p.tls.context != nullptr}};
  }
  if (p.outlier.enabled) {
    out["outlier_detection"] = {{"consecutive_5xx", p.outlier.consecutive_5xx},
                                {"consecutive_gateway_errors", p.outlier.consecutive_gateway},
                                {"consecutive_local_origin_failures", p.outlier.consecutive_local_origin},
                                {"split_external_local_origin_errors", p.outlier.split_local_origin},
                                {"interval_ms", p.outlier.interval_ms},
                                {"base_ejection_time_ms", p.outlier.base_ejection_ms},
                                {"max_ejection_time_ms", p.outlier.max_ejection_ms},
                                {"max_ejection_percent", p.outlier.max_ejection_percent}};
  } else {
    out["outlier_detection"] = nullptr;
  }
  return out;
}

json diagnostics_json(const config::Diagnostics& diagnostics) {
  json out = json::array();
  for (const auto& d : diagnostics) out.push_back(d.format());
  return out;
}

}  // namespace

json snapshot_to_json(const compile::Snapshot& snapshot) {
  json listeners = json::array();
  for (const auto& l : snapshot.listeners) {
    json servers = json::array();
    for (const auto& s : l.servers) {
      servers.push_back({{"gateway", s.gateway},
                         {"port_name", s.port_name},
                         {"protocol", s.protocol},
                         {"hosts", s.hosts},
                         {"https_redirect", s.https_redirect}});
    }
    json listener = {{"name", l.name},
                     {"bind", l.bind},
                     {"listen_port", l.listen_port},
                     {"gateway_port", l.gateway_port},
                     {"protocol", l.protocol},
                     {"servers", servers}};
    if (l.tls_chains.empty()) {
      listener["route_config"] = "http." + std::to_string(l.gateway_port);
      listener["virtual_hosts"] = virtual_hosts_json(l.routes.get());
    } else {
      json chains = json::array();
      for (const auto& chain : l.tls_chains) {
        const std::string gateway_name = chain.server.gateway.substr(chain.server.gateway.find('/') + 1);
        const std::string gateway_ns = chain.server.gateway.substr(0, chain.server.gateway.find('/'));
        chains.push_back(
            {{"server_names", chain.server_names},
             {"route_config", "https." + std::to_string(l.gateway_port) + "." + chain.server.port_name + "." +
                                  gateway_name + "." + gateway_ns},
             {"virtual_hosts", virtual_hosts_json(chain.routes.get())}});
      }
      listener["tls_chains"] = chains;
    }
    if (l.forward_proxy) {
      // Forward-proxy mode: per target port, the hosts allowed and their routes.
      json by_port = json::object();
      for (const auto& [port, table] : l.forward_proxy->tables())
        by_port[std::to_string(port)] = virtual_hosts_json(table.get());
      listener["forward_proxy"] = by_port;
    }
    if (l.l4) {
      // TCP / TLS passthrough filter chains (tcp_proxy), in match order.
      json chains = json::array();
      for (const auto& route : l.l4_routes) {
        json destinations = json::array();
        for (const auto& c : route.clusters)
          destinations.push_back({{"cluster", c.name}, {"weight", c.weight}});
        chains.push_back({{"kind", route.kind},
                          {"server_names", route.server_names},
                          {"terminates_tls", route.tls != nullptr},
                          {"virtual_service", route.virtual_service},
                          {"rule_index", route.rule_index},
                          {"match_index", route.match_index},
                          {"gateway", route.gateway},
                          {"server_port", route.server_port},
                          {"destinations", destinations}});
      }
      listener["l4_filter_chains"] = chains;
      listener["inspect_sni"] = l.inspect_sni;
    }
    listeners.push_back(listener);
  }
  json clusters = json::array();
  for (const auto& c : snapshot.clusters) {
    json endpoints = json::array();
    for (const auto& e : c->endpoints) {
      json endpoint = {{"address", e.address},   {"port", e.port},           {"labels", e.labels},
                       {"weight", e.weight},     {"lb_weight", e.lb_weight}, {"priority", e.priority},
                       {"locality", e.locality}, {"origin", e.origin}};
      if (!e.hostname.empty()) endpoint["hostname"] = e.hostname;
      endpoints.push_back(std::move(endpoint));
    }
    clusters.push_back({{"name", c->name},
                        {"service_host", c->service_host},
                        {"port", c->port},
                        {"subset", c->subset},
                        {"connect_timeout_ms", c->connect_timeout_ms},
                        {"traffic_policy", traffic_policy_json(*c)},
                        {"endpoints", endpoints}});
  }
  // The access log as the Telemetry resources say (docs/access-log.md);
  // absent fields: no Telemetry applies and --access-log alone decides.
  json access_log = json::object();
  if (snapshot.access_log.configured) {
    access_log = {{"source", snapshot.access_log.source},
                  {"enabled", snapshot.access_log.enabled},
                  {"needs_access_log_flag", snapshot.access_log.needs_path}};
    if (snapshot.access_log.filter) access_log["filter"] = snapshot.access_log.filter->expression();
  }
  // Tracing as the Telemetry resources say (docs/tracing.md).
  json tracing = json::object();
  if (snapshot.tracing.configured) {
    tracing = {{"source", snapshot.tracing.source},
               {"disable_span_reporting", snapshot.tracing.disable_span_reporting}};
    if (snapshot.tracing.sampling_basis_points >= 0)
      tracing["random_sampling_percentage"] = snapshot.tracing.sampling_basis_points / 100.0;
  }
  // AuthorizationPolicies in force (docs/authorization.md), DENY first, as
  // they are evaluated; empty: none applies, every request is allowed.
  json authorization = json::array();
  if (snapshot.authz) {
    for (const security::AuthzPolicy& p : snapshot.authz->policies()) {
      const char* action = p.action == security::AuthzPolicy::Action::Deny    ? "DENY"
                           : p.action == security::AuthzPolicy::Action::Allow ? "ALLOW"
                                                                              : "AUDIT";
      json j = {{"namespace", p.namespace_}, {"name", p.name}, {"action", action}, {"rules", p.rules.size()}};
      if (p.dry_run) j["dry_run"] = true;
      if (p.from_custom) j["custom_without_provider"] = true;
      authorization.push_back(std::move(j));
    }
  }
  return {{"version", snapshot.version}, {"listeners", listeners}, {"clusters", clusters},
          {"access_log", access_log},    {"tracing", tracing},     {"authorization", authorization}};
}

json dns_to_json(const dns::ResolvedNames& names) {
  json out = json::object();
  for (const auto& [name, s] : names) {
    const char* status = !s.resolved_once                                      ? "pending"
                         : s.last_status == dns::Resolution::Status::kOk       ? "ok"
                         : s.last_status == dns::Resolution::Status::kNotFound ? "not_found"
                                                                               : "failed";
    json j = {{"addresses", s.addresses},
              {"status", status},
              {"stale", s.stale},
              {"ttl_s", s.ttl_s},
              {"consecutive_failures", s.consecutive_failures}};
    if (!s.last_error.empty() && s.last_status != dns::Resolution::Status::kOk) j["error"] = s.last_error;
    out[name] = j;
  }
  return out;
}

json config_dump(const ConfigState& state) {
  json active = json::array();
  json rejected = json::array();
  for (const auto& o : state.object_list()) {
    json j = {{"kind", o->key.kind},
              {"namespace", o->key.namespace_},
              {"name", o->key.name},
              {"source", o->source.file + ":" + std::to_string(o->source.line)}};
    if (o->in_force) {
      j["generation"] = o->generation;
      if (o->latest_rejected) {
        // The object serves its last good version; its latest edit was refused.
        j["latest_rejected"] = true;
        j["errors"] = diagnostics_json(o->errors);
      }
      active.push_back(j);
    }
    if (o->latest_rejected || !o->in_force) {
      json r = j;
      r.erase("generation");
      r["errors"] = diagnostics_json(o->errors);
      r["serving_last_good"] = o->in_force;
      rejected.push_back(r);
    }
  }
  json out = {{"resources", {{"active", active}, {"rejected", rejected}}},
              {"diagnostics", diagnostics_json(state.diagnostics)},
              {"listener_errors", state.listener_errors},
              {"reloads", state.reloads},
              {"last_reload", state.last_reload}};
  if (state.snapshot) {
    out["snapshot"] = snapshot_to_json(*state.snapshot);
  }
  if (state.dns) out["dns"] = dns_to_json(*state.dns);
  return out;
}

}  // namespace torii::admin
