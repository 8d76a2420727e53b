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
  next_ = Generation{};
  shared_ = 0;
  if (inputs_ && inputs_->same_as(resources, identity, dns) && !too_sparse(slots_, last_.clusters.size()))
    return slots_;
  last_ = Generation{};
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
  last_ = std::move(next_);
  next_ = Generation{};
  slots_ = slots;
}

const ClusterCache::Endpoints* ClusterCache::reuse_endpoints(const void* source, const std::string& host,
                                                             uint32_t port) {
  EndpointsKey key{source, host, port};
  auto it = last_.endpoints.find(key);
  if (it == last_.endpoints.end()) return nullptr;
  return &next_.endpoints.insert_or_assign(std::move(key), it->second).first->second;
}

const ClusterCache::Cluster* ClusterCache::reuse_cluster(const std::string& name, const void* source) {
  auto it = last_.clusters.find(name);
  if (it == last_.clusters.end() || it->second.source != source) return nullptr;
  ++shared_;
  return &next_.clusters.insert_or_assign(name, it->second).first->second;
}

void ClusterCache::keep_endpoints(const void* source, const std::string& host, uint32_t port,
                                  Endpoints entry) {
  next_.endpoints.insert_or_assign(EndpointsKey{source, host, port}, std::move(entry));
}

void ClusterCache::keep_cluster(const std::string& name, Cluster entry) {
  next_.clusters.insert_or_assign(name, std::move(entry));
}

}  // namespace torii::compile
