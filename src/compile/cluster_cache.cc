#include "compile/cluster_cache.h"

#include <utility>

namespace torii::compile {

namespace {

// A slot count this far above the number of clusters means many clusters
// came and went since slots were last handed out from zero: start again, so
// that the workers' per-slot vectors stay about as long as the cluster list.
bool too_sparse(size_t slots, size_t clusters) { return slots > 2 * clusters + 64; }

}  // namespace

bool ClusterCache::Inputs::same_as(const config::ResourceSet& r, const GatewayIdentity& id,
                                   const DnsAnswers& answers) const {
  return destination_rules.same_objects(r.destination_rules) &&
         service_entries.same_objects(r.service_entries) &&
         workload_entries.same_objects(r.workload_entries) && services.same_objects(r.services) &&
         pods.same_objects(r.pods) && endpoint_slices.same_objects(r.endpoint_slices) &&
         namespaces.same_objects(r.namespaces) && secrets.same_objects(r.secrets) && identity == id &&
         dns == answers;
}

size_t ClusterCache::begin(const config::ResourceSet& resources, const GatewayIdentity& identity,
                           const DnsAnswers& dns) {
  ++compile_;
  shared_ = 0;
  warm_ = inputs_ && inputs_->same_as(resources, identity, dns) && !too_sparse(slots_, clusters_.size());
  if (warm_) return slots_;
  endpoints_.clear();
  clusters_.clear();
  inputs_ = Inputs{resources.destination_rules,
                   resources.service_entries,
                   resources.workload_entries,
                   resources.services,
                   resources.pods,
                   resources.endpoint_slices,
                   resources.namespaces,
                   resources.secrets,
                   identity,
                   dns};
  return 0;
}

void ClusterCache::end(size_t slots) {
  std::erase_if(endpoints_, [this](const auto& e) { return e.second.entry.used != compile_; });
  std::erase_if(clusters_, [this](const auto& c) { return c.second.used != compile_; });
  slots_ = slots;
}

const ClusterCache::Endpoints* ClusterCache::reuse_endpoints(const void* source, std::string_view host,
                                                             uint32_t port) {
  auto it = endpoints_.find(EndpointsKey{source, host, port});
  if (it == endpoints_.end()) return nullptr;
  it->second.entry.used = compile_;
  return &it->second.entry;
}

ClusterCache::Cluster* ClusterCache::cluster_named(const std::string& name) {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : &it->second;
}

const ClusterCache::Cluster* ClusterCache::share(Cluster& entry) {
  entry.used = compile_;
  ++shared_;
  return &entry;
}

const ClusterCache::Cluster* ClusterCache::reuse_cluster(const std::string& name, const void* source) {
  Cluster* entry = cluster_named(name);
  return entry != nullptr && entry->source == source ? share(*entry) : nullptr;
}

const ClusterCache::Cluster* ClusterCache::reuse_cluster_as(const std::string& name,
                                                            const upstream::ClusterInfo* cluster) {
  Cluster* entry = cluster_named(name);
  return entry != nullptr && entry->cluster.get() == cluster ? share(*entry) : nullptr;
}

void ClusterCache::keep_endpoints(const void* source, std::string_view host, uint32_t port, Endpoints entry) {
  entry.used = compile_;
  auto storage = std::make_unique<std::string>(host);
  EndpointsKey key{source, *storage, port};
  endpoints_.erase(key);
  endpoints_.emplace(key, StoredEndpoints{std::move(storage), std::move(entry)});
}

void ClusterCache::keep_cluster(const std::string& name, Cluster entry) {
  entry.used = compile_;
  clusters_.insert_or_assign(name, std::move(entry));
}

}  // namespace torii::compile
