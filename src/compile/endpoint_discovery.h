// The endpoints of one service port (ISTIO_SEMANTICS §6), before subset
// filtering.
//
// Kubernetes Service: ready endpoints of its EndpointSlices (port picked by
// the slice port name == service port name), labelled with their Pod's
// labels; when the Service has a selector but no EndpointSlice exists (plain
// manifests without a controller), ready Pods matching the selector stand in;
// plus WorkloadEntries of the Service's namespace matching the selector.
// ServiceEntry: `endpoints[]` and workloadSelector-selected WorkloadEntries
// and Pods. With resolution DNS, every endpoint address that is a name (or,
// without endpoints, every host) stands for the addresses DNS gave it, one
// endpoint each (Envoy STRICT_DNS); DNS_ROUND_ROBIN uses only the first
// endpoint (or host) and one address of it, as one logical host (Envoy
// LOGICAL_DNS). Names come from the DnsAnswers; the names asked for are
// collected in dns_names().
//
// Other addresses must be IP literals; others are skipped with a diagnostic.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "compile/compiler.h"
#include "compile/diagnostic_sink.h"
#include "compile/selection_index.h"
#include "compile/service_registry.h"
#include "config/resources.h"
#include "upstream/cluster_info.h"

namespace torii::compile {

class EndpointDiscovery {
 public:
  EndpointDiscovery(const config::ResourceSet& resources, DiagnosticSink& diagnostics, const DnsAnswers& dns);
  EndpointDiscovery(const EndpointDiscovery&) = delete;
  EndpointDiscovery& operator=(const EndpointDiscovery&) = delete;

  // Reports diagnostics, hence not const; call once per (service, port).
  std::vector<upstream::Endpoint> endpoints(const ServiceInfo& service, const ServicePortInfo& port);

  // Every name a DNS ServiceEntry endpoint asked for so far.
  const std::set<std::string>& dns_names() const { return dns_names_; }
  // Names endpoints() asked for when it last ran for the same service port,
  // as if it had run again (compile/cluster_cache.h).
  void add_dns_names(const std::vector<std::string>& names) { dns_names_.insert(names.begin(), names.end()); }
  // While set, names asked for are also appended to `*into`. Returns the
  // previous one.
  std::vector<std::string>* record_dns_names_into(std::vector<std::string>* into) {
    std::swap(into, recording_names_);
    return into;
  }
  DiagnosticSink& diagnostics() { return diagnostics_; }

 private:
  using NsName = std::pair<std::string, std::string>;

  // Builds the indexes below, at the first endpoints() call: a compile that
  // takes every cluster from the cache (compile/cluster_cache.h) needs none.
  void index();

  void add_k8s_service(const config::Service& service, const ServicePortInfo& port,
                       std::vector<upstream::Endpoint>& out);
  void add_service_entry(const config::ServiceEntry& entry, const std::string& host,
                         const ServicePortInfo& port, std::vector<upstream::Endpoint>& out);
  // Endpoints for a DNS name: its answer's addresses (only the first when
  // `logical`); none, without a diagnostic, while it has no answer yet.
  void add_dns_endpoints(const config::ServiceEntry& entry, const std::string& field, const std::string& name,
                         uint32_t port, const config::WorkloadEntry* endpoint, bool logical,
                         std::vector<upstream::Endpoint>& out);
  void add_selected_workload_entries(const std::string& ns, const config::Labels& selector,
                                     const ServicePortInfo& port, std::vector<upstream::Endpoint>& out);
  void add_selected_pods(const std::string& ns, const config::Labels& selector, const ServicePortInfo& port,
                         std::vector<upstream::Endpoint>& out);
  const config::Pod* pod_for(const config::EndpointSlice& slice,
                             const config::EndpointSlice::Endpoint& endpoint,
                             const std::string& address) const;

  const config::ResourceSet& resources_;
  DiagnosticSink& diagnostics_;
  const DnsAnswers& dns_;
  bool indexed_ = false;
  std::set<std::string> dns_names_;
  std::vector<std::string>* recording_names_ = nullptr;
  std::map<NsName, const config::Pod*> pods_by_name_;
  std::map<std::string, const config::Pod*> pods_by_ip_;
  // Selection candidates per namespace (Services and ServiceEntries only
  // select in their own namespace), in resource order.
  SelectionIndex<config::Pod> pods_by_selector_;
  SelectionIndex<config::WorkloadEntry> workload_entries_by_selector_;
  std::map<NsName, std::vector<const config::EndpointSlice*>> slices_by_service_;
};

}  // namespace torii::compile
