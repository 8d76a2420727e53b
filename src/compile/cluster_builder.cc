#include "compile/cluster_builder.h"

#include <algorithm>

#include "compile/cluster_cache.h"
#include "compile/labels.h"
#include "compile/locality_lb.h"
#include "compile/name_resolution.h"
#include "compile/port_protocol.h"
#include "compile/traffic_policy_resolution.h"
#include "upstream/consistent_hash.h"

namespace torii::compile {

std::string cluster_name(uint32_t port, std::string_view subset, std::string_view host) {
  std::string name = "outbound|";
  name += std::to_string(port);
  name += '|';
  name += subset;
  name += '|';
  name += host;
  return name;
}

ClusterBuilder::ClusterBuilder(const ServiceRegistry& registry, const DestinationRuleIndex& destination_rules,
                               EndpointDiscovery& endpoints, const GatewayIdentity& identity,
                               Snapshot& snapshot, DiagnosticSink* diagnostics)
    : registry_(registry),
      destination_rules_(destination_rules),
      endpoints_(endpoints),
      identity_(identity),
      snapshot_(snapshot),
      diagnostics_(diagnostics) {}

ClusterBuilder::Resolution ClusterBuilder::resolve(const config::Destination& destination,
                                                   std::string_view vs_namespace, uint32_t server_port) {
  Resolution out = resolve_destination(destination, vs_namespace, server_port);
  if (resolutions_ != nullptr) resolutions_->push_back(Resolved{out.cluster.name, out.cluster.cluster});
  return out;
}

bool ClusterBuilder::resolves_again(const Resolved& r) {
  if (cache_ == nullptr || !cache_->warm()) return false;
  if (resolutions_ != nullptr) resolutions_->push_back(r);
  if (r.cluster == nullptr) return true;
  if (const upstream::ClusterInfo* present = snapshot_.find_cluster(r.cluster_name))
    return present == r.cluster;
  const ClusterCache::Cluster* kept = cache_->reuse_cluster_as(r.cluster_name, r.cluster);
  if (kept == nullptr) return false;
  // What create() would have reported: the endpoints' diagnostics, then the cluster's.
  if (const ClusterCache::Endpoints* endpoints =
          cache_->reuse_endpoints(kept->source, kept->endpoints_host, kept->endpoints_port)) {
    endpoints_.diagnostics().replay(endpoints->diagnostics);
    endpoints_.add_dns_names(endpoints->dns_names);
  }
  if (diagnostics_ != nullptr) diagnostics_->replay(kept->diagnostics);
  snapshot_.add_cluster(kept->cluster);
  return true;
}

ClusterBuilder::Resolution ClusterBuilder::resolve_destination(const config::Destination& destination,
                                                               std::string_view vs_namespace,
                                                               uint32_t server_port) {
  std::string host = resolve_short_name(destination.host, vs_namespace, identity_.domain_suffix);
  const ServiceInfo* service = registry_.lookup(host, vs_namespace);

  // GetDestinationCluster: explicit port; else the only port of the service;
  // else the gateway server port (a multi-port service then usually has no
  // such port => 503 NC, Appendix B.9).
  uint32_t port = server_port;
  if (destination.port.number != 0) {
    port = destination.port.number;
  } else if (service != nullptr && service->ports.size() == 1) {
    port = service->ports.front().number;
  }

  Resolution out;
  out.cluster.name = cluster_name(port, destination.subset, service != nullptr ? service->hostname : host);
  if (const upstream::ClusterInfo* existing = snapshot_.find_cluster(out.cluster.name)) {
    out.cluster.cluster = existing;
    return out;
  }

  if (service == nullptr) {
    out.missing_reason =
        "no Service or ServiceEntry visible to namespace " + identity_.namespace_ + " has host " + host;
    return out;
  }
  const ServicePortInfo* service_port = service->find_port(port);
  if (service_port == nullptr) {
    out.missing_reason =
        service->describe() + " has no port " + std::to_string(port) +
        (destination.port.number == 0 ? " (no destination port given, so the gateway port is used)" : "");
    return out;
  }
  const config::Subset* subset = nullptr;
  const AppliedDestinationRule* rule = destination_rules_.lookup(service->hostname, service->namespace_);
  if (!destination.subset.empty()) {
    subset = rule != nullptr ? rule->find_subset(destination.subset) : nullptr;
    if (subset == nullptr) {
      out.missing_reason = "subset " + destination.subset + " is not defined by any DestinationRule for " +
                           service->hostname + " that applies to this gateway";
      return out;
    }
  }
  out.cluster.cluster = create(out.cluster.name, *service, *service_port, rule, subset);
  return out;
}

namespace {

// What a cluster is built from, as the cache tells services apart.
const void* source_of(const ServiceInfo& service) {
  return service.k8s_service != nullptr ? static_cast<const void*>(service.k8s_service)
                                        : static_cast<const void*>(service.service_entry);
}

}  // namespace

const ClusterBuilder::EndpointList& ClusterBuilder::endpoints_of(const ServiceInfo& service,
                                                                 const ServicePortInfo& port) {
  auto key = std::make_pair(&service, port.number);
  auto found = endpoint_cache_.find(key);
  if (found != endpoint_cache_.end()) return found->second;
  EndpointList& out = endpoint_cache_[key];
  if (cache_ != nullptr) {
    if (const ClusterCache::Endpoints* kept =
            cache_->reuse_endpoints(source_of(service), service.hostname, port.number)) {
      endpoints_.diagnostics().replay(kept->diagnostics);
      endpoints_.add_dns_names(kept->dns_names);
      return out = kept->endpoints;
    }
  }
  ClusterCache::Endpoints entry;
  config::Diagnostics* outer_diagnostics = endpoints_.diagnostics().record_into(&entry.diagnostics);
  std::vector<std::string>* outer_names = endpoints_.record_dns_names_into(&entry.dns_names);
  out = std::make_shared<const std::vector<upstream::Endpoint>>(endpoints_.endpoints(service, port));
  endpoints_.record_dns_names_into(outer_names);
  endpoints_.diagnostics().record_into(outer_diagnostics);
  if (cache_ != nullptr) {
    entry.endpoints = out;
    cache_->keep_endpoints(source_of(service), service.hostname, port.number, std::move(entry));
  }
  return out;
}

const upstream::ClusterInfo* ClusterBuilder::create(const std::string& name, const ServiceInfo& service,
                                                    const ServicePortInfo& port,
                                                    const AppliedDestinationRule* rule,
                                                    const config::Subset* subset) {
  const EndpointList& endpoints = endpoints_of(service, port);
  if (cache_ != nullptr) {
    if (const ClusterCache::Cluster* kept = cache_->reuse_cluster(name, source_of(service))) {
      if (diagnostics_ != nullptr) diagnostics_->replay(kept->diagnostics);
      return snapshot_.add_cluster(kept->cluster);
    }
  }

  auto cluster = std::make_shared<upstream::ClusterInfo>();
  cluster->name = name;
  cluster->service_host = service.hostname;
  cluster->port = port.number;
  cluster->index = snapshot_.new_cluster_slot();
  if (subset != nullptr) {
    cluster->subset = subset->name;
    // A subset holds the endpoints whose labels include all its labels; a
    // subset without labels holds them all (§5.1).
    for (const upstream::Endpoint& endpoint : *endpoints) {
      if (labels_subset(subset->labels, endpoint.labels)) cluster->endpoints.push_back(endpoint);
    }
  } else {
    cluster->endpoints = *endpoints;
  }
  ClusterCache::Cluster entry;
  config::Diagnostics* outer =
      diagnostics_ != nullptr ? diagnostics_->record_into(&entry.diagnostics) : nullptr;
  const bool shareable = apply_traffic_policy(*cluster, rule, subset, service_port_protocol(service, port));
  if (diagnostics_ != nullptr) diagnostics_->record_into(outer);
  cluster->policy.share();  // one ClusterPolicy for all the clusters with an equal one
  if (cache_ != nullptr && shareable) {
    entry.cluster = cluster;
    entry.source = source_of(service);
    entry.endpoints_host = service.hostname;
    entry.endpoints_port = port.number;
    cache_->keep_cluster(name, std::move(entry));
  }
  return snapshot_.add_cluster(std::move(cluster));
}

bool ClusterBuilder::apply_traffic_policy(upstream::ClusterInfo& cluster, const AppliedDestinationRule* rule,
                                          const config::Subset* subset, PortProtocol port_protocol) {
  const config::TrafficPolicy* top = rule != nullptr ? rule->traffic_policy : nullptr;
  const config::TrafficPolicy* sub =
      subset != nullptr && subset->traffic_policy ? &*subset->traffic_policy : nullptr;
  std::optional<config::TrafficPolicy> merged = merge_traffic_policy(top, sub, cluster.port);
  const config::DestinationRule* source_rule = nullptr;
  if (rule != nullptr)
    source_rule = rule->traffic_policy_rule != nullptr ? rule->traffic_policy_rule : rule->rules.front();
  cluster.policy =
      compile_cluster_policy(merged ? &*merged : nullptr, diagnostics_, source_rule, secrets_, port_protocol);
  cluster.connect_timeout_ms = cluster.policy->connection.connect_timeout_ms;
  if (merged && source_rule != nullptr) {
    cluster.policy.write().source =
        "DestinationRule " + source_rule->meta.namespace_ + "/" + source_rule->meta.name;
    if (sub != nullptr) cluster.policy.write().source += " subset " + subset->name;
  }

  const config::LocalityLbSetting* locality = nullptr;
  if (merged && merged->load_balancer && merged->load_balancer->locality_lb_setting)
    locality = &*merged->load_balancer->locality_lb_setting;
  LocalityOutcome outcome =
      apply_locality_lb(cluster.endpoints, locality, cluster.policy->outlier.enabled, identity_);
  cluster.policy.write().locality_failover = outcome.failover;
  if (outcome.removed != 0 && diagnostics_ != nullptr && source_rule != nullptr) {
    diagnostics_->notice("DestinationRule", source_rule->meta,
                         "spec.trafficPolicy.loadBalancer.localityLbSetting",
                         cluster.name + ": " + std::to_string(outcome.removed) +
                             " endpoint(s) in localities no distribute rule names get no traffic");
  }

  if (cluster.policy->lb == upstream::LbPolicy::RingHash) {
    cluster.hash_table =
        upstream::ConsistentHashTable::build_ring(cluster.endpoints, cluster.policy->ring_size);
  } else if (cluster.policy->lb == upstream::LbPolicy::Maglev) {
    cluster.hash_table =
        upstream::ConsistentHashTable::build_maglev(cluster.endpoints, cluster.policy->maglev_table_size);
  }
  const config::ClientTLSSettings* tls = merged && merged->tls ? &*merged->tls : nullptr;
  return tls == nullptr ||
         (tls->ca_certificates.empty() && tls->client_certificate.empty() && tls->private_key.empty());
}

}  // namespace torii::compile
