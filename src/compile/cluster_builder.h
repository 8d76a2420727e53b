// Resolves route destinations to clusters `outbound|<port>|<subset>|<host>`
// (ISTIO_SEMANTICS §3.5, §5.1, §0.8), creating only the clusters some route
// references (per-gateway scoping: a gateway never carries the whole mesh).
//
// A destination whose cluster cannot exist (unknown host, port the service
// does not have, subset no applicable DestinationRule defines) still gets a
// route, with a null cluster: istiod sends route tables with
// validate_clusters=false, so such requests fail with 503 NC at request time
// instead of the whole configuration being rejected.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compile/compiler.h"
#include "compile/destination_rule_lookup.h"
#include "compile/endpoint_discovery.h"
#include "compile/port_protocol.h"
#include "compile/service_registry.h"
#include "compile/snapshot.h"
#include "config/resources.h"
#include "router/route_table.h"

namespace torii::compile {

class ClusterCache;
class SecretLookup;

class ClusterBuilder {
 public:
  // Clusters are added to `snapshot` (clusters, clusters_by_name), which must
  // outlive the routes that point at them.
  // `diagnostics` (optional) receives notes about traffic policies.
  ClusterBuilder(const ServiceRegistry& registry, const DestinationRuleIndex& destination_rules,
                 EndpointDiscovery& endpoints, const GatewayIdentity& identity, Snapshot& snapshot,
                 DiagnosticSink* diagnostics = nullptr);
  ClusterBuilder(const ClusterBuilder&) = delete;
  ClusterBuilder& operator=(const ClusterBuilder&) = delete;

  struct Resolution {
    router::WeightedCluster cluster;  // weight left at 1
    std::string missing_reason;       // why cluster.cluster is null; empty otherwise
  };

  // `server_port` is the Gateway port.number the route is built for: the
  // fallback port when the destination has none and the service has several.
  Resolution resolve(const config::Destination& destination, std::string_view vs_namespace,
                     uint32_t server_port);

  // What one resolve() call gave: the cluster (null: none) and its name.
  // A route cache keeps these to check, at the next compile, that the same
  // calls would give the same clusters (compile/route_cache.h).
  struct Resolved {
    std::string cluster_name;
    const upstream::ClusterInfo* cluster = nullptr;  // compared, never read
  };
  // Would resolve() give `r` again? Only while the cluster cache is warm
  // (nothing clusters are built from changed), so without resolving: a
  // destination without a cluster still has none, and one with a cluster
  // gets it back if the cache still holds that very one. The cluster is
  // then in the snapshot, as resolve() would have put it.
  bool resolves_again(const Resolved& r);
  // While set, every resolve() call is also appended to `*into`. Returns the
  // previous one.
  std::vector<Resolved>* record_resolutions_into(std::vector<Resolved>* into) {
    std::swap(into, resolutions_);
    return into;
  }

  // Secrets for DestinationRule `tls.credentialName` (must outlive this).
  void set_secrets(const SecretLookup* secrets) { secrets_ = secrets; }
  // Clusters of the previous compile to share when nothing they are built
  // from changed (compile/cluster_cache.h); null: build every cluster.
  void set_cache(ClusterCache* cache) { cache_ = cache; }

 private:
  using EndpointList = std::shared_ptr<const std::vector<upstream::Endpoint>>;

  Resolution resolve_destination(const config::Destination& destination, std::string_view vs_namespace,
                                 uint32_t server_port);

  const upstream::ClusterInfo* create(const std::string& name, const ServiceInfo& service,
                                      const ServicePortInfo& port, const AppliedDestinationRule* rule,
                                      const config::Subset* subset);
  // The endpoints of a service port: computed once per compile, or taken
  // from the cache with what computing them reported.
  const EndpointList& endpoints_of(const ServiceInfo& service, const ServicePortInfo& port);
  // The cluster's effective traffic policy (traffic_policy_resolution.h),
  // locality priorities/weights and consistent-hash table. Returns false if
  // building it read files (TLS certificates by path): such a cluster is
  // not shared with the next compile, which must read them again.
  bool apply_traffic_policy(upstream::ClusterInfo& cluster, const AppliedDestinationRule* rule,
                            const config::Subset* subset, PortProtocol port_protocol);

  const ServiceRegistry& registry_;
  const DestinationRuleIndex& destination_rules_;
  EndpointDiscovery& endpoints_;
  const GatewayIdentity& identity_;
  Snapshot& snapshot_;
  DiagnosticSink* diagnostics_;
  const SecretLookup* secrets_ = nullptr;
  ClusterCache* cache_ = nullptr;
  std::vector<Resolved>* resolutions_ = nullptr;
  // Endpoints of a (service, port), shared by its subset clusters.
  std::map<std::pair<const ServiceInfo*, uint32_t>, EndpointList> endpoint_cache_;
};

// "outbound|<port>|<subset>|<host>"
std::string cluster_name(uint32_t port, std::string_view subset, std::string_view host);

}  // namespace torii::compile
