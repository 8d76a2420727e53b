#include "compile/vs_ordering.h"

#include <algorithm>

#include "compile/creation_order.h"
#include "compile/name_resolution.h"

namespace torii::compile {

namespace {

enum class Bucket { Private = 0, Exported = 1, Public = 2, Hidden = 3 };

// Mirrors the three istiod indexes (privateByNamespaceAndGateway,
// exportedToNamespaceByGateway, publicByGateway) as seen from `proxy_ns`.
Bucket bucket_for(const config::VirtualService& vs, const std::string& proxy_ns) {
  const auto& export_to = vs.export_to;
  // Empty exportTo => mesh default defaultVirtualServiceExportTo = `*`.
  if (export_to.empty()) return Bucket::Public;
  auto has = [&](std::string_view e) {
    return std::find(export_to.begin(), export_to.end(), e) != export_to.end();
  };
  if (has("*")) return Bucket::Public;
  if (has("~")) return Bucket::Hidden;
  if (vs.meta.namespace_ == proxy_ns && (has(".") || has(proxy_ns))) return Bucket::Private;
  if (has(proxy_ns)) return Bucket::Exported;
  return Bucket::Hidden;
}

}  // namespace

namespace {

// The resolved gateway names of `vs` (attachment_gateways) as the first
// `count` strings of `out`, whose strings are reused from VS to VS: the
// index resolves 10,000 VSs' gateways on every compile.
size_t collect_attachment_gateways(const config::VirtualService& vs, std::vector<std::string>& out) {
  size_t count = 0;
  auto add = [&](std::string_view ref) {
    if (count == out.size()) out.emplace_back();
    std::string& resolved = out[count];
    resolve_gateway_name_into(resolved, ref, vs.meta.namespace_);  // `mesh` stays `mesh`
    if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count), resolved) ==
        out.begin() + static_cast<std::ptrdiff_t>(count))
      ++count;
  };
  if (vs.gateways.empty()) {
    add(kMeshGateway);
    return count;
  }
  for (const std::string& g : vs.gateways) add(g);
  for (const config::HTTPRoute& rule : vs.http) {
    for (const config::HTTPMatchRequest& match : rule.match) {
      for (const std::string& g : match.gateways) add(g);
    }
  }
  for (const auto* routes : {&vs.tls, &vs.tcp}) {
    for (const config::L4Route& rule : *routes) {
      for (const config::L4MatchAttributes& match : rule.match) {
        for (const std::string& g : match.gateways) add(g);
      }
    }
  }
  return count;
}

}  // namespace

std::vector<std::string> attachment_gateways(const config::VirtualService& vs) {
  std::vector<std::string> out;
  out.resize(collect_attachment_gateways(vs, out));
  return out;
}

namespace {

std::vector<const config::VirtualService*> addresses_of(
    const config::ObjectList<config::VirtualService>& all) {
  std::vector<const config::VirtualService*> out;
  out.reserve(all.size());
  for (const config::VirtualService& vs : all) out.push_back(&vs);
  return out;
}

}  // namespace

VirtualServiceIndex::VirtualServiceIndex(const config::ObjectList<config::VirtualService>& virtual_services,
                                         const std::string& proxy_namespace)
    : VirtualServiceIndex(addresses_of(virtual_services), proxy_namespace) {}

VirtualServiceIndex::VirtualServiceIndex(const std::vector<const config::VirtualService*>& virtual_services,
                                         const std::string& proxy_namespace) {
  struct Candidate {
    Bucket bucket;
    const config::VirtualService* vs;
  };
  std::vector<Candidate> candidates;
  for (const config::VirtualService* vs : virtual_services) {
    // A VS without hosts is a delegate: only reachable through `delegate`.
    if (vs->hosts.empty()) continue;
    Bucket bucket = bucket_for(*vs, proxy_namespace);
    if (bucket != Bucket::Hidden) candidates.push_back({bucket, vs});
  }
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.bucket != b.bucket) return a.bucket < b.bucket;
    return created_before(a.vs->meta, b.vs->meta);
  });
  std::vector<std::string> gateways;
  // Most VSs of a config bind the same gateway: the last one's list is at hand.
  std::string last_gateway;
  std::vector<const config::VirtualService*>* last_list = nullptr;
  for (const Candidate& c : candidates) {
    const size_t count = collect_attachment_gateways(*c.vs, gateways);
    for (size_t i = 0; i < count; ++i) {
      const std::string& gateway = gateways[i];
      if (gateway == kMeshGateway) {
        // Forward-proxy listeners stand in for the sidecar (compile/forward_proxy_builder.h).
        mesh_.push_back(c.vs);
        continue;
      }
      if (last_list == nullptr || gateway != last_gateway) {
        last_list = &by_gateway_[gateway];
        last_gateway = gateway;
      }
      last_list->push_back(c.vs);
    }
  }
}

const std::vector<const config::VirtualService*>& VirtualServiceIndex::for_gateway(
    const std::string& gateway) const {
  auto it = by_gateway_.find(gateway);
  return it == by_gateway_.end() ? none_ : it->second;
}

}  // namespace torii::compile
