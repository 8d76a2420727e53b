#include "compile/forward_proxy_builder.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "compile/host_name.h"
#include "compile/name_resolution.h"
#include "compile/policy_translation.h"
#include "compile/route_translation.h"

namespace torii::compile {

namespace {

// Istio's PassthroughCluster: no compiled endpoints, default policy (Envoy's
// default circuit-breaker thresholds, mesh connect timeout).
const upstream::ClusterInfo* passthrough_cluster(Snapshot& snapshot) {
  if (const upstream::ClusterInfo* existing = snapshot.find_cluster(std::string(kPassthroughCluster)))
    return existing;
  auto cluster = std::make_shared<upstream::ClusterInfo>();
  cluster->name = std::string(kPassthroughCluster);
  cluster->index = snapshot.new_cluster_slot();
  return snapshot.add_cluster(std::move(cluster));
}

// "outbound|<port>|<subset>|<host>" -> host, port.
bool parse_cluster_name(std::string_view name, std::string_view& host, uint32_t& port) {
  if (!name.starts_with("outbound|")) return false;
  std::string_view rest = name.substr(9);
  size_t a = rest.find('|');
  if (a == std::string_view::npos) return false;
  size_t b = rest.find('|', a + 1);
  if (b == std::string_view::npos) return false;
  port = 0;
  for (char c : rest.substr(0, a)) port = port * 10 + static_cast<uint32_t>(c - '0');
  host = rest.substr(b + 1);
  return true;
}

// The marks of the header comment, for one destination of a forward-proxy route.
void apply_outbound_policy(router::WeightedCluster& destination, const ServiceRegistry& registry,
                           const GatewayIdentity& identity, Snapshot& snapshot) {
  std::string_view host;
  uint32_t port = 0;
  if (!parse_cluster_name(destination.name, host, port)) return;
  const ServiceInfo* service = registry.lookup(host, identity.namespace_);
  if (service == nullptr) {
    if (identity.outbound_registry_only) {
      destination.blackhole = true;
    } else {
      destination.cluster = passthrough_cluster(snapshot);
      destination.dynamic_host = true;
      destination.dynamic_name = std::string(host);
      destination.dynamic_port = port;
    }
    return;
  }
  if (destination.cluster == nullptr) return;  // missing subset or port: 503 NC, as anywhere
  if (service->service_entry != nullptr &&
      (service->service_entry->resolution.empty() || service->service_entry->resolution == "NONE")) {
    destination.dynamic_host = true;
    destination.dynamic_name = host::is_wildcard(service->hostname) ? std::string() : service->hostname;
    destination.dynamic_port = port;
  }
}

router::Route default_route(const ServiceInfo& service, uint32_t port, ClusterBuilder& clusters) {
  router::Route route;
  route.match.path.kind = router::StringMatcher::Kind::Prefix;
  route.match.path.value = "/";
  config::Destination destination;
  destination.host = service.hostname;
  destination.port.number = port;
  ClusterBuilder::Resolution resolved = clusters.resolve(destination, service.namespace_, port);
  route.action.clusters.push_back(std::move(resolved.cluster));
  route.action.total_weight = 1;
  route.action.policies.retry = translate_retry_policy(std::nullopt);
  route.name = "default";  // istiod's name for a service's route without a VirtualService
  return route;
}

}  // namespace

std::shared_ptr<const router::ForwardProxyTable> build_forward_proxy_table(
    const ServiceRegistry& registry, const VirtualServiceIndex& virtual_services,
    const GatewayIdentity& identity, ClusterBuilder& clusters, DiagnosticSink& diagnostics,
    const DelegationResult* delegation, Snapshot& snapshot) {
  auto out = std::make_shared<router::ForwardProxyTable>();
  const std::string mesh(kMeshGateway);
  const std::vector<const config::VirtualService*>& mesh_services = virtual_services.for_mesh();
  std::map<std::pair<const config::VirtualService*, uint32_t>, std::vector<router::Route>> translated;
  std::set<std::pair<uint32_t, std::string>> done;  // (port, lower-case host): the first service wins

  for (const ServiceInfo& service : registry.services()) {
    const std::string domain = host::to_lower(service.hostname);
    for (const ServicePortInfo& port : service.ports) {
      if (!done.emplace(port.number, domain).second) continue;
      std::vector<router::Route> routes;
      for (const config::VirtualService* vs : mesh_services) {
        host::Names vs_hosts;
        for (const std::string& h : vs->hosts)
          vs_hosts.push_back(resolve_short_name(h, vs->meta.namespace_, identity.domain_suffix));
        if (host::intersection(host::Names{service.hostname}, vs_hosts).empty()) continue;
        auto key = std::make_pair(vs, port.number);
        auto it = translated.find(key);
        if (it == translated.end()) {
          RouteTranslationContext context{identity, mesh, port.number, clusters, diagnostics};
          context.origins = delegation != nullptr ? &delegation->origins : nullptr;
          it = translated.emplace(key, translate_virtual_service(*vs, context)).first;
        }
        routes.insert(routes.end(), it->second.begin(), it->second.end());
      }
      // istiod: a service with a VirtualService gets only its routes.
      router::Route own = default_route(service, port.number, clusters);
      router::WeightedCluster tunnel = own.action.clusters.front();
      apply_outbound_policy(tunnel, registry, identity, snapshot);
      if (routes.empty()) routes.push_back(std::move(own));
      std::stable_partition(routes.begin(), routes.end(),
                            [](const router::Route& r) { return !r.match.is_catch_all(); });
      for (router::Route& route : routes) {
        for (router::WeightedCluster& destination : route.action.clusters)
          apply_outbound_policy(destination, registry, identity, snapshot);
      }
      router::VirtualHost& vhost = out->table_for_port(port.number).add_virtual_host(domain);
      vhost.routes = std::move(routes);
      out->set_connect_target(vhost, std::move(tunnel));
    }
  }
  out->finalize();
  return out;
}

}  // namespace torii::compile
