#include "compile/endpoint_discovery.h"

#include <algorithm>

#include "compile/host_name.h"
#include "compile/labels.h"
#include "compile/locality_lb.h"
#include "compile/name_resolution.h"

namespace torii::compile {

namespace {

std::string origin(std::string_view kind, const config::ObjectMeta& meta) {
  return std::string(kind) + " " + meta.namespace_ + "/" + meta.name;
}

const config::Labels kNoLabels;

// Where a candidate endpoint came from, for its diagnostic if it is unusable.
struct EndpointSource {
  std::string_view kind;
  const config::ObjectMeta* meta;
  std::string field;
};

// Appends the endpoint, or reports why it cannot be connected to.
void add_endpoint(std::vector<upstream::Endpoint>& out, DiagnosticSink& diagnostics,
                  const EndpointSource& source, const std::string& address, uint32_t port,
                  const config::Labels& labels, std::string locality, uint32_t weight) {
  if (port == 0 || port > 65535) {
    diagnostics.warning(
        source.kind, *source.meta, source.field,
        "endpoint " + address + " has no usable port (" + std::to_string(port) + "); skipped");
    return;
  }
  upstream::Endpoint endpoint;
  endpoint.address = address;
  endpoint.port = static_cast<uint16_t>(port);
  endpoint.labels = labels;
  endpoint.locality = std::move(locality);
  endpoint.weight = weight == 0 ? 1 : weight;
  endpoint.lb_weight = endpoint.weight;
  endpoint.origin = origin(source.kind, *source.meta);
  if (!upstream::resolve_numeric(endpoint)) {
    diagnostics.warning(source.kind, *source.meta, source.field,
                        "endpoint address \"" + address + "\" is not an IP address; skipped");
    return;
  }
  out.push_back(std::move(endpoint));
}

// Port of a WorkloadEntry (or ServiceEntry endpoint) for a service port:
// `ports[<service port name>]` > targetPort > port number (§6.1).
uint32_t workload_port(const config::WorkloadEntry& we, const ServicePortInfo& port) {
  if (auto it = we.ports.find(port.name); !port.name.empty() && it != we.ports.end()) return it->second;
  if (!port.target_port_name.empty()) {
    if (auto it = we.ports.find(port.target_port_name); it != we.ports.end()) return it->second;
  }
  return port.target_port != 0 ? port.target_port : port.number;
}

}  // namespace

EndpointDiscovery::EndpointDiscovery(const config::ResourceSet& resources, DiagnosticSink& diagnostics,
                                     const DnsAnswers& dns)
    : resources_(resources), diagnostics_(diagnostics), dns_(dns) {}

void EndpointDiscovery::index() {
  indexed_ = true;
  const config::ResourceSet& resources = resources_;
  for (const config::Pod& pod : resources.pods) {
    pods_by_name_.emplace(NsName{pod.meta.namespace_, pod.meta.name}, &pod);
    if (!pod.pod_ip.empty()) pods_by_ip_.emplace(pod.pod_ip, &pod);
    pods_by_selector_.add(pod.meta.namespace_, pod.meta.labels, &pod);
  }
  for (const config::WorkloadEntry& we : resources.workload_entries) {
    workload_entries_by_selector_.add(we.meta.namespace_, we.labels, &we);
  }
  for (const config::EndpointSlice& slice : resources.endpoint_slices) {
    slices_by_service_[NsName{slice.meta.namespace_, slice.service_name}].push_back(&slice);
  }
}

std::vector<upstream::Endpoint> EndpointDiscovery::endpoints(const ServiceInfo& service,
                                                             const ServicePortInfo& port) {
  if (!indexed_) index();
  std::vector<upstream::Endpoint> out;
  if (service.k8s_service != nullptr) {
    add_k8s_service(*service.k8s_service, port, out);
  } else if (service.service_entry != nullptr) {
    add_service_entry(*service.service_entry, service.hostname, port, out);
  }
  return out;
}

const config::Pod* EndpointDiscovery::pod_for(const config::EndpointSlice& slice,
                                              const config::EndpointSlice::Endpoint& endpoint,
                                              const std::string& address) const {
  if (endpoint.target_ref && endpoint.target_ref->kind == "Pod") {
    const std::string& ns =
        endpoint.target_ref->namespace_.empty() ? slice.meta.namespace_ : endpoint.target_ref->namespace_;
    auto it = pods_by_name_.find(NsName{ns, endpoint.target_ref->name});
    if (it != pods_by_name_.end()) return it->second;
  }
  auto it = pods_by_ip_.find(address);
  return it == pods_by_ip_.end() ? nullptr : it->second;
}

void EndpointDiscovery::add_k8s_service(const config::Service& service, const ServicePortInfo& port,
                                        std::vector<upstream::Endpoint>& out) {
  if (service.type == "ExternalName") {
    diagnostics_.notice(
        "Service", service.meta, "spec.externalName",
        "ExternalName services are resolved by DNS, which is not supported yet; no endpoints");
    return;
  }
  const std::string& ns = service.meta.namespace_;
  auto slices = slices_by_service_.find(NsName{ns, service.meta.name});

  if (slices != slices_by_service_.end()) {
    // A dump of a live cluster holds both a Service's Endpoints and the
    // EndpointSlices mirrored from it; like istiod, prefer the slices, and use
    // converted Endpoints only when there is no real slice.
    const bool has_real_slices =
        std::any_of(slices->second.begin(), slices->second.end(),
                    [](const config::EndpointSlice* s) { return !s->from_endpoints; });
    for (const config::EndpointSlice* slice : slices->second) {
      if (has_real_slices && slice->from_endpoints) continue;
      const std::string_view kind = slice->from_endpoints ? "Endpoints" : "EndpointSlice";
      // EndpointSlice ports carry the Service port's name; an unnamed
      // single-port slice (e.g. converted from hand-written Endpoints) serves
      // the Service's port when no name matches.
      const config::EndpointSlice::EndpointPort* slice_port = nullptr;
      for (const auto& p : slice->ports) {
        if (p.name == port.name) {
          slice_port = &p;
          break;
        }
      }
      if (slice_port == nullptr && slice->ports.size() == 1 &&
          (slice->ports.front().name.empty() || port.name.empty())) {
        slice_port = &slice->ports.front();
      }
      if (slice_port == nullptr) continue;
      for (size_t i = 0; i < slice->endpoints.size(); ++i) {
        const auto& endpoint = slice->endpoints[i];
        // PILOT_SEND_UNHEALTHY_ENDPOINTS=false: only ready endpoints are used.
        if (!endpoint.ready) continue;
        for (size_t j = 0; j < endpoint.addresses.size(); ++j) {
          const std::string& address = endpoint.addresses[j];
          const config::Pod* pod = pod_for(*slice, endpoint, address);
          EndpointSource source{kind, &slice->meta,
                                "endpoints[" + std::to_string(i) + "].addresses[" + std::to_string(j) + "]"};
          // Locality: the slice's zone, refined by the Pod's topology labels.
          std::string locality = pod ? locality_from_labels(pod->meta.labels) : std::string();
          if (locality.empty() && !endpoint.zone.empty()) locality = "/" + endpoint.zone;
          add_endpoint(out, diagnostics_, source, address, slice_port->port,
                       pod ? pod->meta.labels : kNoLabels, locality, 1);
        }
      }
    }
  }

  // Kubernetes treats an empty selector like no selector: nothing is selected.
  if (!service.selector || service.selector->empty()) return;
  if (slices == slices_by_service_.end()) add_selected_pods(ns, *service.selector, port, out);
  add_selected_workload_entries(ns, *service.selector, port, out);
}

void EndpointDiscovery::add_selected_pods(const std::string& ns, const config::Labels& selector,
                                          const ServicePortInfo& port, std::vector<upstream::Endpoint>& out) {
  const std::vector<const config::Pod*>* pods = pods_by_selector_.candidates(ns, selector);
  if (pods == nullptr) return;
  for (const config::Pod* pod_ptr : *pods) {
    const config::Pod& pod = *pod_ptr;
    if (!pod.ready || pod.pod_ip.empty()) continue;
    if (!labels_subset(selector, pod.meta.labels)) continue;
    uint32_t target = port.target_port != 0 ? port.target_port : port.number;
    if (!port.target_port_name.empty()) {
      auto it = pod.container_ports.find(port.target_port_name);
      // Kubernetes leaves a pod out when it has no container port of that name.
      if (it == pod.container_ports.end()) continue;
      target = it->second;
    }
    add_endpoint(out, diagnostics_, EndpointSource{"Pod", &pod.meta, "status.podIP"}, pod.pod_ip, target,
                 pod.meta.labels, locality_from_labels(pod.meta.labels), 1);
  }
}

void EndpointDiscovery::add_selected_workload_entries(const std::string& ns, const config::Labels& selector,
                                                      const ServicePortInfo& port,
                                                      std::vector<upstream::Endpoint>& out) {
  const std::vector<const config::WorkloadEntry*>* entries =
      workload_entries_by_selector_.candidates(ns, selector);
  if (entries == nullptr) return;
  for (const config::WorkloadEntry* we_ptr : *entries) {
    const config::WorkloadEntry& we = *we_ptr;
    if (!labels_subset(selector, we.labels)) continue;
    add_endpoint(out, diagnostics_, EndpointSource{"WorkloadEntry", &we.meta, "spec.address"}, we.address,
                 workload_port(we, port), we.labels, we.locality, we.weight);
  }
}

void EndpointDiscovery::add_service_entry(const config::ServiceEntry& entry, const std::string& host,
                                          const ServicePortInfo& port, std::vector<upstream::Endpoint>& out) {
  const std::string resolution = entry.resolution.empty() ? "NONE" : entry.resolution;
  const bool dns = resolution == "DNS" || resolution == "DNS_ROUND_ROBIN";
  const bool logical = resolution == "DNS_ROUND_ROBIN";

  // LOGICAL_DNS has one host: the first endpoint, or the service host.
  const size_t endpoint_count =
      logical ? std::min<size_t>(entry.endpoints.size(), 1) : entry.endpoints.size();
  for (size_t i = 0; i < endpoint_count; ++i) {
    const config::WorkloadEntry& we = entry.endpoints[i];
    std::string field = "spec.endpoints[" + std::to_string(i) + "].address";
    if (dns && !is_ip_address(we.address)) {
      add_dns_endpoints(entry, field, we.address, workload_port(we, port), &we, logical, out);
      continue;
    }
    add_endpoint(out, diagnostics_, EndpointSource{"ServiceEntry", &entry.meta, field}, we.address,
                 workload_port(we, port), we.labels, we.locality, we.weight);
  }
  if (dns && entry.endpoints.empty()) {
    const uint32_t target = port.target_port != 0 ? port.target_port : port.number;
    add_dns_endpoints(entry, "spec.hosts", host, target, nullptr, logical, out);
  }

  // workloadSelector selects WorkloadEntries and Pods of the SE's namespace.
  if (entry.workload_selector) {
    add_selected_workload_entries(entry.meta.namespace_, *entry.workload_selector, port, out);
    add_selected_pods(entry.meta.namespace_, *entry.workload_selector, port, out);
  }
}

void EndpointDiscovery::add_dns_endpoints(const config::ServiceEntry& entry, const std::string& field,
                                          const std::string& name, uint32_t port,
                                          const config::WorkloadEntry* endpoint, bool logical,
                                          std::vector<upstream::Endpoint>& out) {
  const std::string lower = host::to_lower(name);
  dns_names_.insert(lower);
  if (recording_names_ != nullptr) recording_names_->push_back(lower);
  auto answer = dns_.find(lower);
  if (answer == dns_.end()) return;  // not resolved yet: a snapshot follows the first answer
  const size_t count = logical ? std::min<size_t>(answer->second.size(), 1) : answer->second.size();
  for (size_t i = 0; i < count; ++i) {
    const size_t before = out.size();
    add_endpoint(out, diagnostics_, EndpointSource{"ServiceEntry", &entry.meta, field}, answer->second[i],
                 port, endpoint != nullptr ? endpoint->labels : kNoLabels,
                 endpoint != nullptr ? endpoint->locality : "", endpoint != nullptr ? endpoint->weight : 0);
    if (out.size() > before) out.back().hostname = lower;
  }
}

}  // namespace torii::compile
