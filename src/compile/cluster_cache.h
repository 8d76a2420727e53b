// The clusters one compile made, kept for the next compile to share instead
// of building them again (issue 17: recompile only what a change reaches).
//
// A cluster is a function of the Services, ServiceEntries, WorkloadEntries,
// Pods, EndpointSlices, Namespaces, DestinationRules and Secrets, of the
// gateway's identity and of the DNS answers. When all of these are the very
// same objects as at the last compile (the Store shares the objects of
// unchanged documents between reloads, so comparing pointers is enough), a
// cluster of the same name built from the same Service or ServiceEntry would
// come out the same: the new snapshot shares it, keeping its slot
// (ClusterInfo::index), and what building it reported is reported again.
// Any change to one of those inputs drops every entry: the next compile
// builds all its clusters, as without a cache.
//
// Only clusters some route of the new snapshot references are shared, so a
// cluster no route reaches any more is gone as before. Endpoints are kept
// per service port, as ClusterBuilder computes them once for all the subset
// clusters of that port.
//
// Control thread only. Kept by the caller of compile() across compiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compile/compiler.h"
#include "config/diagnostic.h"
#include "config/resources.h"
#include "upstream/cluster_info.h"

namespace torii::compile {

class ClusterCache {
 public:
  // The endpoints of one service port, and what computing them reported.
  struct Endpoints {
    std::shared_ptr<const std::vector<upstream::Endpoint>> endpoints;
    config::Diagnostics diagnostics;
    std::vector<std::string> dns_names;  // names asked of DNS
    uint64_t used = 0;                   // the last compile that took it
  };
  // One cluster, and what building it reported (its endpoints aside).
  struct Cluster {
    std::shared_ptr<const upstream::ClusterInfo> cluster;
    const void* source = nullptr;  // the Service or ServiceEntry it was built from
    std::string endpoints_host;    // with `source`, the key of its Endpoints entry
    uint32_t endpoints_port = 0;
    config::Diagnostics diagnostics;
    uint64_t used = 0;
  };

  // Start of a compile: the entries of the last one stay only if no input of
  // a cluster changed since. Returns the snapshot's first free cluster slot.
  size_t begin(const config::ResourceSet& resources, const GatewayIdentity& identity, const DnsAnswers& dns);
  // End of a compile: what it built or shared is what the next one may take;
  // the rest is dropped. `slots`: its snapshot's cluster_slots.
  void end(size_t slots);

  // The last compile's entry, kept for the next compile too; null if there
  // is none (or it was built from another Service or ServiceEntry).
  const Endpoints* reuse_endpoints(const void* source, std::string_view host, uint32_t port);
  const Cluster* reuse_cluster(const std::string& name, const void* source);
  // The same, for the entry of that name holding that very cluster.
  const Cluster* reuse_cluster_as(const std::string& name, const upstream::ClusterInfo* cluster);
  // What the current compile built, for the next one.
  void keep_endpoints(const void* source, std::string_view host, uint32_t port, Endpoints entry);
  void keep_cluster(const std::string& name, Cluster entry);

  // Clusters the current compile shared rather than built (tests, logs).
  size_t shared_count() const { return shared_; }
  // The current compile kept the last one's entries (nothing clusters are
  // built from changed).
  bool warm() const { return warm_; }

 private:
  // (Service or ServiceEntry, host, port); found by a view, without a copy.
  struct EndpointsKey {
    const void* source;
    std::string_view host;  // into `host_storage` for stored keys
    uint32_t port;
    bool operator==(const EndpointsKey& o) const {
      return source == o.source && port == o.port && host == o.host;
    }
  };
  struct EndpointsKeyHash {
    size_t operator()(const EndpointsKey& k) const {
      return std::hash<const void*>{}(k.source) ^ (std::hash<std::string_view>{}(k.host) * 31 + k.port);
    }
  };
  struct StoredEndpoints {
    std::unique_ptr<std::string> host_storage;  // stable address for the key's view
    Endpoints entry;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // What clusters are built from, as of the last compile. The lists hold
  // the objects, so their addresses cannot be taken by new ones meanwhile.
  struct Inputs {
    config::ObjectList<config::DestinationRule> destination_rules;
    config::ObjectList<config::ServiceEntry> service_entries;
    config::ObjectList<config::WorkloadEntry> workload_entries;
    config::ObjectList<config::Service> services;
    config::ObjectList<config::Pod> pods;
    config::ObjectList<config::EndpointSlice> endpoint_slices;
    config::ObjectList<config::Namespace> namespaces;
    config::ObjectList<config::Secret> secrets;
    GatewayIdentity identity;
    DnsAnswers dns;

    bool same_as(const config::ResourceSet& resources, const GatewayIdentity& identity,
                 const DnsAnswers& dns) const;
  };

  Cluster* cluster_named(const std::string& name);
  // Marks `entry` as taken by the current compile.
  const Cluster* share(Cluster& entry);

  std::optional<Inputs> inputs_;
  // Entries are marked with the compile that last took them (`used`) rather
  // than copied from one generation to the next: a compile that shares
  // 10,000 clusters then allocates nothing for them.
  std::unordered_map<EndpointsKey, StoredEndpoints, EndpointsKeyHash> endpoints_;
  std::unordered_map<std::string, Cluster, StringHash, std::equal_to<>> clusters_;
  uint64_t compile_ = 0;  // the current compile's number
  size_t slots_ = 0;      // the last snapshot's cluster_slots
  size_t shared_ = 0;
  bool warm_ = false;
};

}  // namespace torii::compile
