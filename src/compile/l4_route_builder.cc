#include "compile/l4_route_builder.h"

#include <algorithm>
#include <set>

#include "compile/host_name.h"
#include "compile/name_resolution.h"
#include "compile/tls_server_builder.h"

namespace torii::compile {

namespace {

// istiod pickMatchingGatewayHosts, non-empty.
bool hosts_match(const MergedServer& server, const config::VirtualService& vs,
                 const GatewayIdentity& identity) {
  const host::Names admitted = host::names_for_namespace(server.hosts, vs.meta.namespace_);
  for (const std::string& h : vs.hosts) {
    const std::string name = resolve_short_name(h, vs.meta.namespace_, identity.domain_suffix);
    for (const std::string& s : admitted) {
      if (host::matches(s, name)) return true;
    }
  }
  return false;
}

// istiod l4SingleMatch: port and gateways only.
bool match_applies(const config::L4MatchAttributes& m, const MergedServer& server,
                   const config::VirtualService& vs) {
  if (m.port != 0 && m.port != server.server->port.number) return false;
  if (m.gateways.empty()) return true;
  return std::any_of(m.gateways.begin(), m.gateways.end(), [&](const std::string& g) {
    return resolve_gateway_name(g, vs.meta.namespace_) == server.gateway_name;
  });
}

void warn_ignored_fields(const config::L4MatchAttributes& m, const config::VirtualService& vs,
                         const std::string& field, DiagnosticSink& diagnostics) {
  auto ignored = [&](bool set, const char* name) {
    if (!set) return;
    diagnostics.warning(
        kVirtualServiceKind, vs.meta, field + "." + name,
        std::string(name) + " is not evaluated for routes bound to a gateway (as in Istio); ignored",
        &m.source);
  };
  ignored(!m.destination_subnets.empty(), "destinationSubnets");
  ignored(!m.source_labels.empty(), "sourceLabels");
  ignored(!m.source_namespace.empty(), "sourceNamespace");
}

// The weighted destinations of a rule; false (with a diagnostic) when none is usable.
bool translate_destinations(const config::L4Route& rule, const config::VirtualService& vs,
                            const std::string& field, uint32_t server_port, ClusterBuilder& clusters,
                            DiagnosticSink& diagnostics, router::L4Route& out) {
  const bool single = rule.route.size() == 1;
  for (size_t i = 0; i < rule.route.size(); ++i) {
    const config::RouteDestination& d = rule.route[i];
    // Relative weights as for HTTP: a lone destination takes everything;
    // with several, weight-0 ones take nothing.
    uint32_t weight = 1;
    if (!single) {
      if (d.weight <= 0) continue;
      weight = static_cast<uint32_t>(d.weight);
    }
    ClusterBuilder::Resolution resolved = clusters.resolve(d.destination, vs.meta.namespace_, server_port);
    if (resolved.cluster.cluster == nullptr) {
      diagnostics.warning(kVirtualServiceKind, vs.meta,
                          field + ".route[" + std::to_string(i) + "].destination",
                          "cluster " + resolved.cluster.name + " does not exist (" + resolved.missing_reason +
                              "); connections routed to it are closed",
                          &rule.source);
    }
    resolved.cluster.weight = weight;
    out.total_weight += weight;
    out.clusters.push_back(std::move(resolved.cluster));
  }
  if (out.clusters.empty()) {
    diagnostics.error(kVirtualServiceKind, vs.meta, field + ".route",
                      "rule has no destination with weight > 0; rule dropped", &rule.source);
    return false;
  }
  return true;
}

void build_tls_chains(const MergedServer& server, const VirtualServiceIndex& virtual_services,
                      const GatewayIdentity& identity, ClusterBuilder& clusters, DiagnosticSink& diagnostics,
                      std::set<std::string>& seen_sni, std::vector<router::L4Route>& out) {
  const uint32_t port = server.server->port.number;
  for (const config::VirtualService* vs : virtual_services.for_gateway(server.gateway_name)) {
    if (vs->tls.empty() || !hosts_match(server, *vs, identity)) continue;
    const std::string vs_name = vs->meta.namespace_ + "/" + vs->meta.name;
    for (size_t r = 0; r < vs->tls.size(); ++r) {
      const config::L4Route& rule = vs->tls[r];
      const std::string rule_field = "spec.tls[" + std::to_string(r) + "]";
      for (size_t m = 0; m < rule.match.size(); ++m) {
        const config::L4MatchAttributes& match = rule.match[m];
        const std::string field = rule_field + ".match[" + std::to_string(m) + "]";
        if (!match_applies(match, server, *vs)) continue;
        warn_ignored_fields(match, *vs, field, diagnostics);
        std::vector<std::string> names;
        std::string duplicates;
        for (const std::string& sni : match.sni_hosts) {
          const std::string lower = host::to_lower(sni);
          if (seen_sni.count(lower) != 0) duplicates += (duplicates.empty() ? "" : ", ") + sni;
          // "*" alone: any server name (or none), a chain without names.
          if (lower != "*") names.push_back(lower);
        }
        if (!duplicates.empty()) {
          diagnostics.warning(kVirtualServiceKind, vs->meta, field + ".sniHosts",
                              "duplicate SNI host names on port " + std::to_string(port) + ": [" +
                                  duplicates + "]; match skipped (an earlier rule already takes them)",
                              &match.source);
          continue;
        }
        router::L4Route route;
        if (!translate_destinations(rule, *vs, rule_field, port, clusters, diagnostics, route)) break;
        for (const std::string& sni : match.sni_hosts) seen_sni.insert(host::to_lower(sni));
        route.server_names = std::move(names);
        route.kind = "tls";
        route.virtual_service = vs_name;
        route.rule_index = static_cast<int>(r);
        route.match_index = static_cast<int>(m);
        route.gateway = server.gateway_name;
        route.server_port = port;
        out.push_back(std::move(route));
      }
    }
  }
}

bool build_tcp_chain(const MergedServer& server, const VirtualServiceIndex& virtual_services,
                     const GatewayIdentity& identity, ClusterBuilder& clusters, DiagnosticSink& diagnostics,
                     std::vector<router::L4Route>& out) {
  const uint32_t port = server.server->port.number;
  for (const config::VirtualService* vs : virtual_services.for_gateway(server.gateway_name)) {
    if (vs->tcp.empty() || !hosts_match(server, *vs, identity)) continue;
    for (size_t r = 0; r < vs->tcp.size(); ++r) {
      const config::L4Route& rule = vs->tcp[r];
      const std::string rule_field = "spec.tcp[" + std::to_string(r) + "]";
      int matched = rule.match.empty() ? -1 : -2;
      for (size_t m = 0; m < rule.match.size() && matched == -2; ++m) {
        if (match_applies(rule.match[m], server, *vs)) matched = static_cast<int>(m);
      }
      if (matched == -2) continue;
      if (matched >= 0) {
        warn_ignored_fields(rule.match[static_cast<size_t>(matched)], *vs,
                            rule_field + ".match[" + std::to_string(matched) + "]", diagnostics);
      }
      router::L4Route route;
      if (!translate_destinations(rule, *vs, rule_field, port, clusters, diagnostics, route)) return false;
      route.kind = "tcp";
      route.virtual_service = vs->meta.namespace_ + "/" + vs->meta.name;
      route.rule_index = static_cast<int>(r);
      route.match_index = matched;
      route.gateway = server.gateway_name;
      route.server_port = port;
      out.push_back(std::move(route));
      return true;  // TCP route semantics: the first match wins
    }
  }
  diagnostics.warning("Gateway", server.gateway->meta,
                      "spec.servers[" + std::to_string(server.server_index) + "]",
                      "no VirtualService tcp route matches this " + server.server->port.protocol +
                          " server (port " + std::to_string(port) + "); its connections are closed",
                      &server.server->source);
  return false;
}

}  // namespace

std::vector<router::L4Route> build_l4_routes(const MergedListener& listener,
                                             const VirtualServiceIndex& virtual_services,
                                             const GatewayIdentity& identity, ClusterBuilder& clusters,
                                             const config::ObjectList<config::Secret>& secrets,
                                             DiagnosticSink& diagnostics) {
  std::vector<router::L4Route> out;
  std::set<std::string> seen_sni;  // per port, as istiod's tlsHostsByPort
  for (const MergedServer& server : listener.l4_servers) {
    if (is_tls_passthrough(*server.server)) {
      build_tls_chains(server, virtual_services, identity, clusters, diagnostics, seen_sni, out);
    } else if (is_terminated_tls_tcp(*server.server)) {
      auto context = build_server_tls(server, secrets, identity.namespace_, diagnostics);
      if (!context) continue;  // build_server_tls said why
      if (!build_tcp_chain(server, virtual_services, identity, clusters, diagnostics, out)) continue;
      out.back().tls = std::move(context);
      out.back().server_names = sni_names(server);
      for (std::string& name : out.back().server_names) name = host::to_lower(name);
    } else {
      build_tcp_chain(server, virtual_services, identity, clusters, diagnostics, out);
    }
  }
  return out;
}

}  // namespace torii::compile
