#include "compile/route_table_builder.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "compile/host_name.h"
#include "compile/name_resolution.h"
#include "compile/route_cache.h"
#include "compile/route_translation.h"

namespace torii::compile {

namespace {

// The routes of one VS translated for one (Gateway, port). Several virtual
// hosts may take them: the last one to take them moves them, the others copy.
struct Translation {
  std::vector<router::Route> routes;
  size_t takers = 0;
  size_t uses = 0;  // virtual hosts that take it (takers counts down; this does not)
  // From the route cache: `routes` are those of cached->vhost, not copied
  // until a virtual host needs them.
  RouteCache::Entry* cached = nullptr;
  // For a new cache entry (when cacheable): the key, and what translating
  // reported and resolved.
  std::optional<RouteCache::Key> cache_key;
  config::Diagnostics diagnostics;
  std::vector<ClusterBuilder::Resolved> resolutions;
};

struct TranslationKey {
  const config::VirtualService* vs;
  uint32_t port;
  std::string_view gateway;
  bool operator==(const TranslationKey&) const = default;
};

struct TranslationKeyHash {
  size_t operator()(const TranslationKey& k) const {
    return std::hash<const void*>{}(k.vs) ^ (std::hash<std::string_view>{}(k.gateway) * 31 + k.port);
  }
};

struct PendingVirtualHost {
  std::vector<Translation*> parts;  // in the order they reached it
  bool require_tls = false;
};

// Virtual hosts in first-seen order, so the table (and /config_dump) is deterministic.
class PendingTable {
 public:
  // `domain` in any case; the virtual host's is lower-case.
  PendingVirtualHost& get(std::string_view domain) {
    if (std::any_of(domain.begin(), domain.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      lowered_ = host::to_lower(domain);
      domain = lowered_;
    }
    if (auto it = index_.find(domain); it != index_.end()) return it->second->second;
    auto& added = hosts_.emplace_back(std::string(domain), PendingVirtualHost{});
    index_.emplace(added.first, &added);  // a view of the deque's own copy, which never moves
    return added.second;
  }
  bool empty() const { return hosts_.empty(); }
  std::deque<std::pair<std::string, PendingVirtualHost>>& hosts() { return hosts_; }

 private:
  std::unordered_map<std::string_view, std::pair<std::string, PendingVirtualHost>*> index_;
  std::deque<std::pair<std::string, PendingVirtualHost>> hosts_;
  std::string lowered_;
};

// A virtual host's routes, in order: moved from a translation no other
// virtual host takes after this one, copied otherwise.
std::vector<router::Route> take_routes(const std::vector<Translation*>& parts) {
  for (Translation* part : parts) {
    if (part->cached != nullptr && part->routes.empty()) part->routes = part->cached->vhost->routes;
  }
  if (parts.size() == 1 && parts.front()->takers == 1) return std::move(parts.front()->routes);
  size_t count = 0;
  for (const Translation* part : parts) count += part->routes.size();
  std::vector<router::Route> routes;
  routes.reserve(count);
  for (Translation* part : parts) {
    if (--part->takers == 0) {
      std::move(part->routes.begin(), part->routes.end(), std::back_inserter(routes));
    } else {
      routes.insert(routes.end(), part->routes.begin(), part->routes.end());
    }
  }
  return routes;
}

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

// Would the resolve() calls of a cached translation give the same clusters
// again? (They are then in the snapshot, in the order the translation would
// have put them there.)
bool same_resolutions(const std::vector<ClusterBuilder::Resolved>& resolutions, ClusterBuilder& clusters) {
  for (const ClusterBuilder::Resolved& r : resolutions) {
    if (!clusters.resolves_again(r)) return false;
  }
  return true;
}

// The routes of `vs` for one server: from the cache when it holds them and
// they still hold, else translated (and recorded for the cache).
void translate(Translation& out, const config::VirtualService& vs, const RouteTranslationContext& context,
               RouteCache* cache, std::string_view table) {
  if (cache != nullptr) {
    out.cache_key = RouteCache::Key{&vs, table, context.gateway, context.server_port, context.tls};
    if (RouteCache::Entry* entry = cache->find(*out.cache_key)) {
      if (same_resolutions(entry->resolutions, context.clusters)) {
        context.diagnostics.replay(entry->diagnostics);
        out.cached = entry;
        return;
      }
    }
    config::Diagnostics* outer = context.diagnostics.record_into(&out.diagnostics);
    std::vector<ClusterBuilder::Resolved>* outer_resolutions =
        context.clusters.record_resolutions_into(&out.resolutions);
    out.routes = translate_virtual_service(vs, context);
    context.clusters.record_resolutions_into(outer_resolutions);
    context.diagnostics.record_into(outer);
    return;
  }
  out.routes = translate_virtual_service(vs, context);
}

// istiod SortVHostRoutes: catch-alls last, everything else keeps its order.
void move_catch_alls_last(std::vector<router::Route>& routes) {
  auto specific = [](const router::Route& r) { return !r.match.is_catch_all(); };
  // Mostly true already (one VS, catch-all last): then no temporary buffer.
  if (std::is_partitioned(routes.begin(), routes.end(), specific)) return;
  std::stable_partition(routes.begin(), routes.end(), specific);
}

}  // namespace

std::shared_ptr<const router::RouteTable> build_route_table(
    const MergedListener& listener, const VirtualServiceIndex& virtual_services,
    const GatewayIdentity& identity, ClusterBuilder& clusters, DiagnosticSink& diagnostics,
    const DelegationResult* delegation, RouteCache* cache, std::string_view table_name) {
  PendingTable pending;
  // A VS's routes depend only on (VS, Gateway port, Gateway): translate once.
  std::unordered_map<TranslationKey, Translation*, TranslationKeyHash> translated;
  std::deque<Translation> translations;  // deque: addresses stay stable

  for (const MergedServer& server : listener.servers) {
    const uint32_t server_port = server.server->port.number;
    const bool https_redirect = server.server->tls && server.server->tls->https_redirect;

    // The server's hosts as a VS's namespace sees them: the same for every
    // VS of one namespace (most VSs of a config).
    const std::string* seen_from = nullptr;
    host::Names server_hosts;
    host::Names vs_hosts;
    for (const config::VirtualService* vs : virtual_services.for_gateway(server.gateway_name)) {
      if (seen_from == nullptr || *seen_from != vs->meta.namespace_) {
        server_hosts = host::names_for_namespace(server.hosts, vs->meta.namespace_);
        seen_from = &vs->meta.namespace_;
      }
      vs_hosts.clear();
      for (const std::string& h : vs->hosts) {
        vs_hosts.push_back(resolve_short_name(h, vs->meta.namespace_, identity.domain_suffix));
      }
      host::Names hosts = host::intersection(server_hosts, vs_hosts);
      if (hosts.empty()) continue;

      Translation*& translation = translated[TranslationKey{vs, server_port, server.gateway_name}];
      if (translation == nullptr) {
        RouteTranslationContext context{identity, server.gateway_name, server_port, clusters, diagnostics};
        context.tls = server.server->port.protocol == "HTTPS";
        context.origins = delegation != nullptr ? &delegation->origins : nullptr;
        translation = &translations.emplace_back();
        translate(*translation, *vs, context, cache, table_name);
      }
      for (const std::string& h : hosts) {
        PendingVirtualHost& vhost = pending.get(h);
        vhost.parts.push_back(translation);
        ++translation->takers;
        ++translation->uses;
        if (https_redirect) vhost.require_tls = true;
      }
    }

    // httpsRedirect applies to every host of the server, with or without a VS.
    if (https_redirect) {
      for (const std::string& h : server.hosts) {
        pending.get(host::strip_namespace(h)).require_tls = true;
      }
    }
  }

  // Blackhole: Istio's `blackhole:<port>` virtual host, 404 for everything.
  if (pending.empty()) pending.get("*");

  auto table = std::make_shared<router::RouteTable>();
  // A virtual host one cacheable translation makes alone: shared from the
  // last snapshot when that translation still holds, else cached for the next.
  auto alone = [](const PendingVirtualHost& vhost) -> Translation* {
    Translation* part = vhost.parts.size() == 1 ? vhost.parts.front() : nullptr;
    return part != nullptr && part->uses == 1 && part->cache_key ? part : nullptr;
  };
  std::vector<std::pair<Translation*, size_t>> to_keep;  // (translation, index in the table)
  for (auto& [domain, vhost] : pending.hosts()) {
    if (Translation* part = alone(vhost)) {
      if (part->cached != nullptr && part->cached->vhost->domain == domain &&
          part->cached->vhost->require_tls == vhost.require_tls) {
        cache->share(*part->cached);
        table->adopt_virtual_host(part->cached->vhost);
        continue;
      }
      if (part->cached == nullptr) to_keep.emplace_back(part, table->virtual_hosts().size());
    }
    router::VirtualHost& out = table->add_virtual_host(domain);
    out.routes = take_routes(vhost.parts);
    // One translation holds no duplicates; two may (the same VS reached
    // through two servers).
    if (vhost.parts.size() > 1) drop_duplicate_routes(out.routes);
    move_catch_alls_last(out.routes);
    out.require_tls = vhost.require_tls;
  }
  table->finalize();
  for (auto& [part, index] : to_keep) {
    cache->keep(*part->cache_key,
                RouteCache::Entry{table->virtual_hosts()[index], std::move(part->diagnostics),
                                  std::move(part->resolutions)});
  }
  return table;
}

}  // namespace torii::compile
