#include "compile/service_registry.h"

#include <algorithm>

#include "compile/creation_order.h"
#include "compile/host_name.h"
#include "compile/name_resolution.h"
#include "compile/visibility.h"

namespace torii::compile {

namespace {

constexpr std::string_view kExportToAnnotation = "networking.istio.io/exportTo";

bool service_visible(const config::Service& service, const std::string& proxy_ns) {
  auto it = service.meta.annotations.find(std::string(kExportToAnnotation));
  if (it == service.meta.annotations.end()) return true;
  return is_visible_to(split_export_to_annotation(it->second), service.meta.namespace_, proxy_ns);
}

}  // namespace

const ServicePortInfo* ServiceInfo::find_port(uint32_t number) const {
  for (const ServicePortInfo& port : ports) {
    if (port.number == number) return &port;
  }
  return nullptr;
}

std::string ServiceInfo::describe() const {
  if (k8s_service != nullptr) return "Service " + k8s_service->meta.namespace_ + "/" + k8s_service->meta.name;
  return "ServiceEntry " + service_entry->meta.namespace_ + "/" + service_entry->meta.name;
}

ServiceRegistry::ServiceRegistry(const config::ResourceSet& resources, const GatewayIdentity& identity) {
  services_.reserve(resources.services.size() + resources.service_entries.size());
  for (const config::Service& service : resources.services) {
    if (!service_visible(service, identity.namespace_)) continue;
    ServiceInfo info;
    info.hostname = service_hostname(service.meta.name, service.meta.namespace_, identity.domain_suffix);
    info.namespace_ = service.meta.namespace_;
    info.k8s_service = &service;
    for (const config::ServicePort& port : service.ports) {
      info.ports.push_back(
          ServicePortInfo{port.port, port.name, port.app_protocol, port.target_port, port.target_port_name});
    }
    services_.push_back(std::move(info));
  }

  std::vector<const config::ServiceEntry*> entries;
  for (const config::ServiceEntry& entry : resources.service_entries) {
    if (is_visible_to(entry.export_to, entry.meta.namespace_, identity.namespace_)) entries.push_back(&entry);
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const config::ServiceEntry* a, const config::ServiceEntry* b) {
                     return created_before(a->meta, b->meta);
                   });
  for (const config::ServiceEntry* entry : entries) {
    for (const std::string& hostname : entry->hosts) {
      ServiceInfo info;
      info.hostname = hostname;
      info.namespace_ = entry->meta.namespace_;
      info.service_entry = entry;
      for (const config::Port& port : entry->ports) {
        info.ports.push_back(ServicePortInfo{port.number, port.name, port.protocol, port.target_port, ""});
      }
      services_.push_back(std::move(info));
    }
  }

  // K8s Services were added first, so each host's list starts with them.
  by_host_.reserve(services_.size());
  for (size_t i = 0; i < services_.size(); ++i) by_host_[host::to_lower(services_[i].hostname)].push_back(i);
}

const ServiceInfo* ServiceRegistry::lookup(std::string_view hostname, std::string_view vs_namespace) const {
  // Host names are mostly lower-case already: no copy for those.
  const bool lower =
      std::none_of(hostname.begin(), hostname.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  auto it = lower ? by_host_.find(hostname) : by_host_.find(host::to_lower(hostname));
  if (it == by_host_.end()) return nullptr;
  const std::vector<size_t>& candidates = it->second;
  const ServiceInfo& first = services_[candidates.front()];
  if (first.k8s_service != nullptr) return &first;
  for (size_t index : candidates) {
    if (services_[index].namespace_ == vs_namespace) return &services_[index];
  }
  return &first;
}

}  // namespace torii::compile
