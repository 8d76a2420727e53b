#include "compile/route_table_builder.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "compile/host_name.h"
#include "compile/name_resolution.h"
#include "compile/route_translation.h"

namespace torii::compile {

namespace {

struct PendingVirtualHost {
  std::vector<router::Route> routes;
  bool require_tls = false;
};

// Virtual hosts in first-seen order, so the table (and /config_dump) is deterministic.
class PendingTable {
 public:
  PendingVirtualHost& get(const std::string& domain) {
    auto [it, inserted] = index_.emplace(domain, hosts_.size());
    if (inserted) hosts_.emplace_back(domain, PendingVirtualHost{});
    return hosts_[it->second].second;
  }
  bool empty() const { return hosts_.empty(); }
  std::vector<std::pair<std::string, PendingVirtualHost>>& hosts() { return hosts_; }

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::pair<std::string, PendingVirtualHost>> hosts_;
};

// The same VS rule can reach one virtual host twice (two servers of the
// listener admitting the same host). Envoy would only ever use the first copy,
// so later copies are dropped.
void drop_duplicate_routes(std::vector<router::Route>& routes) {
  std::set<std::tuple<std::string, int, int, int>> seen;
  std::erase_if(routes, [&](const router::Route& r) {
    // Rules merged from one delegate share the root's rule index.
    return !seen.emplace(r.virtual_service, r.rule_index, r.delegate_rule_index, r.match_index).second;
  });
}

// istiod SortVHostRoutes: catch-alls last, everything else keeps its order.
void move_catch_alls_last(std::vector<router::Route>& routes) {
  std::stable_partition(routes.begin(), routes.end(),
                        [](const router::Route& r) { return !r.match.is_catch_all(); });
}

}  // namespace

std::shared_ptr<const router::RouteTable> build_route_table(const MergedListener& listener,
                                                            const VirtualServiceIndex& virtual_services,
                                                            const GatewayIdentity& identity,
                                                            ClusterBuilder& clusters,
                                                            DiagnosticSink& diagnostics,
                                                            const DelegationResult* delegation) {
  PendingTable pending;
  // A VS's routes depend only on (VS, Gateway port, Gateway): translate once.
  std::map<std::tuple<const config::VirtualService*, uint32_t, std::string>, std::vector<router::Route>>
      translated;

  for (const MergedServer& server : listener.servers) {
    const uint32_t server_port = server.server->port.number;
    const bool https_redirect = server.server->tls && server.server->tls->https_redirect;

    for (const config::VirtualService* vs : virtual_services.for_gateway(server.gateway_name)) {
      host::Names vs_hosts;
      for (const std::string& h : vs->hosts) {
        vs_hosts.push_back(resolve_short_name(h, vs->meta.namespace_, identity.domain_suffix));
      }
      host::Names hosts =
          host::intersection(host::names_for_namespace(server.hosts, vs->meta.namespace_), vs_hosts);
      if (hosts.empty()) continue;

      auto key = std::make_tuple(vs, server_port, server.gateway_name);
      auto it = translated.find(key);
      if (it == translated.end()) {
        RouteTranslationContext context{identity, server.gateway_name, server_port, clusters, diagnostics};
        context.tls = server.server->port.protocol == "HTTPS";
        context.origins = delegation != nullptr ? &delegation->origins : nullptr;
        it = translated.emplace(key, translate_virtual_service(*vs, context)).first;
      }
      for (const std::string& h : hosts) {
        PendingVirtualHost& vhost = pending.get(host::to_lower(h));
        vhost.routes.insert(vhost.routes.end(), it->second.begin(), it->second.end());
        if (https_redirect) vhost.require_tls = true;
      }
    }

    // httpsRedirect applies to every host of the server, with or without a VS.
    if (https_redirect) {
      for (const std::string& h : server.hosts) {
        pending.get(host::to_lower(host::strip_namespace(h))).require_tls = true;
      }
    }
  }

  // Blackhole: Istio's `blackhole:<port>` virtual host, 404 for everything.
  if (pending.empty()) pending.get("*");

  auto table = std::make_shared<router::RouteTable>();
  for (auto& [domain, vhost] : pending.hosts()) {
    drop_duplicate_routes(vhost.routes);
    move_catch_alls_last(vhost.routes);
    router::VirtualHost& out = table->add_virtual_host(domain);
    out.routes = std::move(vhost.routes);
    out.require_tls = vhost.require_tls;
  }
  table->finalize();
  return table;
}

}  // namespace torii::compile
