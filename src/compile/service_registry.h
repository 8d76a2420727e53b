// The services a gateway can route to, by hostname (istiod's service registry
// as seen from the gateway's namespace; ISTIO_SEMANTICS §1.4, §6).
//
// Kubernetes Services are `<name>.<ns>.svc.<domain-suffix>`; ServiceEntries
// contribute each of their hosts as written. When both define a hostname the
// Kubernetes Service wins (service_entry.proto NOTE 2). Objects not exported
// to the gateway's namespace are invisible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compile/compiler.h"
#include "config/resources.h"

namespace torii::compile {

struct ServicePortInfo {
  uint32_t number = 0;
  std::string name;
  std::string protocol;          // as written (SE protocol, K8s appProtocol); not interpreted yet
  uint32_t target_port = 0;      // 0 = not set
  std::string target_port_name;  // Kubernetes named targetPort
};

struct ServiceInfo {
  std::string hostname;  // as written (SE) or built (K8s)
  std::string namespace_;
  const config::Service* k8s_service = nullptr;  // exactly one of these two is set
  const config::ServiceEntry* service_entry = nullptr;
  std::vector<ServicePortInfo> ports;

  const ServicePortInfo* find_port(uint32_t number) const;
  // "Service ns/name" or "ServiceEntry ns/name", for diagnostics.
  std::string describe() const;
};

class ServiceRegistry {
 public:
  ServiceRegistry(const config::ResourceSet& resources, const GatewayIdentity& identity);
  ServiceRegistry(const ServiceRegistry&) = delete;
  ServiceRegistry& operator=(const ServiceRegistry&) = delete;

  // The service a destination host refers to (case-insensitive). A K8s
  // Service wins; among ServiceEntries one in the VirtualService's namespace
  // is preferred, then the oldest (gw.go buildNameToServiceMapForHTTPRoutes).
  const ServiceInfo* lookup(std::string_view hostname, std::string_view vs_namespace) const;
  // Every visible service: K8s Services first, then ServiceEntry hosts, oldest first.
  const std::vector<ServiceInfo>& services() const { return services_; }

 private:
  std::vector<ServiceInfo> services_;  // filled once in the constructor; pointers stay valid
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // lower-case host -> K8s first, then SEs oldest first
  std::unordered_map<std::string, std::vector<size_t>, StringHash, std::equal_to<>> by_host_;
};

}  // namespace torii::compile
