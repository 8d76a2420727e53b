// compile(): resources in, Snapshot out (ISTIO_SEMANTICS §0, Appendix A).
//
//   select Gateways by labels -> merge servers per (bind, port)
//   -> per listener: attach VSs per Gateway, intersect hosts, translate rules
//   -> clusters created on demand for the destinations routes reference.
//
// Every step is a pure function of the resources and the identity, so two
// compiles of the same input give the same snapshot (except `version`, which
// the publisher sets).
#include "compile/compiler.h"
#include "compile/authz_selection.h"
#include "compile/jwt_selection.h"
#include "compile/rate_limit_selection.h"
#include "compile/telemetry_selection.h"

#include <algorithm>

#include "compile/cluster_builder.h"
#include "compile/compile_cache.h"
#include "compile/delegation.h"
#include "compile/destination_rule_lookup.h"
#include "compile/diagnostic_sink.h"
#include "compile/endpoint_discovery.h"
#include "compile/forward_proxy_builder.h"
#include "compile/gateway_api_translation.h"
#include "compile/gateway_merge.h"
#include "compile/l4_route_builder.h"
#include "compile/route_table_builder.h"
#include "compile/secret_lookup.h"
#include "compile/service_registry.h"
#include "compile/tls_server_builder.h"
#include "compile/vs_ordering.h"

namespace torii::compile {

namespace {

ServerInfo server_info(const MergedServer& merged) {
  ServerInfo info;
  info.gateway = merged.gateway_name;
  info.port_name = merged.server->port.name;
  info.protocol = merged.server->port.protocol;
  info.hosts = merged.hosts;
  info.https_redirect = merged.server->tls && merged.server->tls->https_redirect;
  return info;
}

}  // namespace

CompileResult compile(const config::ResourceSet& resources, const GatewayIdentity& identity,
                      const DnsAnswers& dns, CompileCache* cache) {
  DiagnosticSink diagnostics;
  auto snapshot = std::make_shared<Snapshot>();
  ClusterCache* cluster_cache = cache != nullptr ? &cache->clusters : nullptr;
  RouteCache* route_cache = cache != nullptr ? &cache->routes : nullptr;
  if (cache != nullptr) {
    snapshot->cluster_slots = cache->clusters.begin(resources, identity, dns);
    cache->routes.begin(resources.virtual_services, cache->clusters.warm());
  }

  // Gateway API objects become Istio Gateways and VirtualServices first, as
  // istiod translates them (compile/gateway_api_translation.h).
  const GatewayApiTranslation gateway_api = translate_gateway_api(resources, identity, diagnostics);
  std::vector<const config::Gateway*> gateways = select_gateways(resources, identity);
  for (const config::Gateway& gateway : gateway_api.gateways) gateways.push_back(&gateway);
  std::vector<MergedListener> listeners = merge_gateways(gateways, identity, diagnostics);

  // Delegates are merged into their roots first, as istiod does when it
  // builds its VirtualService index.
  config::ObjectList<config::VirtualService> with_gateway_api;
  if (!gateway_api.virtual_services.empty()) {
    with_gateway_api = resources.virtual_services;  // pointers, not copies
    for (const config::VirtualService& vs : gateway_api.virtual_services) with_gateway_api.push_back(vs);
  }
  const DelegationResult delegation =
      merge_delegates(gateway_api.virtual_services.empty() ? resources.virtual_services : with_gateway_api,
                      identity.domain_suffix, diagnostics);
  const VirtualServiceIndex virtual_services(delegation.virtual_services, identity.namespace_);
  std::shared_ptr<const ServiceRegistry> shared_registry =
      cache != nullptr && cache->clusters.warm() && cache->registry
          ? cache->registry
          : std::make_shared<const ServiceRegistry>(resources, identity);
  if (cache != nullptr) cache->registry = shared_registry;
  const ServiceRegistry& registry = *shared_registry;
  const DestinationRuleIndex destination_rules(resources.destination_rules, identity, diagnostics);
  EndpointDiscovery endpoints(resources, diagnostics, dns);
  ClusterBuilder clusters(registry, destination_rules, endpoints, identity, *snapshot, &diagnostics);
  const SecretLookup secrets(resources.secrets, identity.namespace_);
  clusters.set_secrets(&secrets);
  clusters.set_cache(cluster_cache);

  std::shared_ptr<const router::ForwardProxyTable> forward_proxy;  // one for every forward-proxy listener
  for (const MergedListener& merged : listeners) {
    Listener listener;
    listener.name = merged.name;
    listener.bind = merged.bind;
    listener.gateway_port = merged.gateway_port;
    listener.listen_port = merged.listen_port;
    listener.protocol = "HTTP";
    for (const MergedServer& server : merged.servers) listener.servers.push_back(server_info(server));
    for (const MergedServer& server : merged.l4_servers) listener.servers.push_back(server_info(server));
    if (!merged.l4_servers.empty()) {
      // TCP / TLS passthrough filter chains (compile/l4_route_builder.h).
      listener.l4 = true;
      listener.protocol = is_opaque_tcp(*merged.l4_servers.front().server) ? "TCP" : "TLS";
      listener.l4_routes =
          build_l4_routes(merged, virtual_services, identity, clusters, resources.secrets, diagnostics);
      for (const router::L4Route& route : listener.l4_routes)
        listener.inspect_sni = listener.inspect_sni || !route.server_names.empty();
    }
    if (merged.servers.empty()) {
      // Layer 4 only: no HTTP route table.
    } else if (merged.tls_terminated) {
      // One filter chain per server, each with the routes of that server alone.
      listener.protocol = "HTTPS";
      for (const MergedServer& server : merged.servers) {
        auto context = build_server_tls(server, resources.secrets, identity.namespace_, diagnostics);
        if (!context) continue;
        MergedListener alone = merged;
        alone.servers = {server};
        const std::string table =
            merged.name + '/' + server.gateway_name + '/' + std::to_string(server.server_index);
        listener.tls_chains.push_back(
            TlsChain{sni_names(server), std::move(context),
                     build_route_table(alone, virtual_services, identity, clusters, diagnostics, &delegation,
                                       route_cache, table),
                     server_info(server)});
      }
    } else {
      listener.routes = build_route_table(merged, virtual_services, identity, clusters, diagnostics,
                                          &delegation, route_cache, merged.name);
      if (identity.forward_proxy_ports.contains(merged.gateway_port)) {
        if (!forward_proxy)
          forward_proxy = build_forward_proxy_table(registry, virtual_services, identity, clusters,
                                                    diagnostics, &delegation, *snapshot);
        listener.forward_proxy = forward_proxy;
      }
    }
    // Terminated HTTPS sharing the port with L4 chains: SNI decides which.
    if (listener.l4 && !listener.tls_chains.empty()) listener.inspect_sni = true;
    snapshot->listeners.push_back(std::move(listener));
  }
  // A --forward-proxy-port that no plaintext HTTP server serves does nothing:
  // say so, rather than let HTTP_PROXY clients meet a 404 or a closed port.
  for (uint32_t port : identity.forward_proxy_ports) {
    const bool served =
        std::any_of(snapshot->listeners.begin(), snapshot->listeners.end(),
                    [&](const Listener& l) { return l.gateway_port == port && l.forward_proxy; });
    if (!served) {
      diagnostics.warning("", config::ObjectMeta{}, "--forward-proxy-port",
                          "no plaintext HTTP server of a selected Gateway is on port " +
                              std::to_string(port) + "; forward-proxy mode is off there");
    }
  }

  snapshot->gateway_api_status = format_gateway_api_status(gateway_api.status);
  snapshot->access_log = select_access_log(resources.telemetries, identity);
  snapshot->tracing = select_tracing(resources.telemetries, identity);
  snapshot->rate_limit = select_rate_limits(resources.envoy_filters, identity, snapshot->listeners);

  CompileResult result;
  snapshot->jwt_authn =
      build_jwt_authn(resources.request_authentications, identity, diagnostics, result.jwks_files);
  snapshot->authz = build_authz(resources.authorization_policies, identity, diagnostics);
  if (snapshot->authz)
    snapshot->authz_tcp =
        std::make_shared<const security::AuthzEngine>(security::for_tcp(snapshot->authz->policies()));
  if (cache != nullptr) {
    cache->clusters.end(snapshot->cluster_slots);
    cache->routes.end();
    result.clusters_shared = cache->clusters.shared_count();
    result.virtual_hosts_shared = cache->routes.shared_count();
  }
  result.dns_names = endpoints.dns_names();
  result.diagnostics = diagnostics.take();
  snapshot->diagnostics = result.diagnostics;
  result.snapshot = std::move(snapshot);
  return result;
}

}  // namespace torii::compile
