#include "compile/snapshot.h"

#include <algorithm>

#include "http/header_map.h"

namespace torii::compile {

const TlsChain* Listener::chain_for_sni(std::string_view sni) const {
  // Runs per HTTPS request: compares case-insensitively in place, no copy.
  const TlsChain* best = nullptr;
  size_t best_rank = 0;  // 0 none, 1 catch-all, 2 + suffix length for wildcards, max for exact
  for (const TlsChain& chain : tls_chains) {
    if (chain.server_names.empty()) {
      if (best_rank < 1) {
        best = &chain;
        best_rank = 1;
      }
      continue;
    }
    for (const std::string& pattern : chain.server_names) {
      size_t rank = 0;
      if (http::iequals(pattern, sni)) {
        rank = static_cast<size_t>(-1);
      } else if (pattern.starts_with("*.") && sni.size() > pattern.size() - 1 &&
                 http::iequals(std::string_view(pattern).substr(1),
                               sni.substr(sni.size() - (pattern.size() - 1)))) {
        rank = 2 + pattern.size();
      }
      if (rank > best_rank) {
        best = &chain;
        best_rank = rank;
      }
    }
  }
  return best;
}

Listener::FilterChain Listener::filter_chain_for(std::string_view sni) const {
  FilterChain best;
  size_t best_rank = 0;
  for (const router::L4Route& route : l4_routes) {
    const size_t rank = router::server_name_rank(route.server_names, sni);
    if (rank > best_rank) {
      best = FilterChain{&route, nullptr};
      best_rank = rank;
    }
  }
  for (const TlsChain& chain : tls_chains) {
    const size_t rank = router::server_name_rank(chain.server_names, sni);
    if (rank > best_rank) {
      best = FilterChain{nullptr, &chain};
      best_rank = rank;
    }
  }
  return best;
}

std::vector<std::string> Listener::kinds() const {
  std::vector<std::string> out;
  auto add = [&out](const char* kind) {
    if (std::find(out.begin(), out.end(), kind) == out.end()) out.emplace_back(kind);
  };
  if (routes) add("HTTP");
  if (forward_proxy) add("FORWARD_PROXY");
  if (!tls_chains.empty()) add("HTTPS");
  for (const router::L4Route& route : l4_routes)
    add(route.kind == "tls" ? "TLS_PASSTHROUGH" : route.tls ? "TLS" : "TCP");
  // No chain built (no route, no usable certificate): the servers' protocol.
  if (out.empty()) out.push_back(protocol);
  return out;
}

const Listener* Snapshot::find_listener(const std::string& name) const {
  for (const Listener& l : listeners) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

const upstream::ClusterInfo* Snapshot::find_cluster(const std::string& name) const {
  auto it = clusters_by_name.find(name);
  return it == clusters_by_name.end() ? nullptr : it->second;
}

const upstream::ClusterInfo* Snapshot::add_cluster(std::shared_ptr<const upstream::ClusterInfo> cluster) {
  const upstream::ClusterInfo* raw = cluster.get();
  cluster_slots = std::max(cluster_slots, raw->index + 1);
  clusters.push_back(std::move(cluster));
  clusters_by_name.emplace(raw->name, raw);
  return raw;
}

}  // namespace torii::compile
