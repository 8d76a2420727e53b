// Which VirtualServices attach to a Gateway, and in what order
// (PushContext.initVirtualServices / VirtualServicesForGateway; ISTIO_SEMANTICS §0.3).
//
// A VS attaches to gateway `ns/name` iff that name is among its resolved
// gateways and it is visible to the namespace the gateway process runs in.
// The order is: VSs private to that namespace, then VSs exported to it by
// name, then public VSs; oldest first inside each bucket. Routes are
// concatenated in this order, so it decides which rule wins.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "config/resources.h"

namespace torii::compile {

// The gateways a VS binds to, resolved and without duplicates: the top-level
// `gateways`, plus every `http[].match[].gateways` entry when the top level is
// not empty (istiod getGatewayNames). An empty top level means `[mesh]`.
std::vector<std::string> attachment_gateways(const config::VirtualService& vs);

class VirtualServiceIndex {
 public:
  VirtualServiceIndex(const std::vector<const config::VirtualService*>& virtual_services,
                      const std::string& proxy_namespace);
  VirtualServiceIndex(const config::ObjectList<config::VirtualService>& virtual_services,
                      const std::string& proxy_namespace);

  // Attached VSs of gateway "ns/name" in route order; empty if none.
  const std::vector<const config::VirtualService*>& for_gateway(const std::string& gateway) const;
  // VSs bound to `mesh` (the sidecars), same order; only forward-proxy
  // listeners use them (compile/forward_proxy_builder.h).
  const std::vector<const config::VirtualService*>& for_mesh() const { return mesh_; }

 private:
  std::unordered_map<std::string, std::vector<const config::VirtualService*>> by_gateway_;
  std::vector<const config::VirtualService*> none_;
  std::vector<const config::VirtualService*> mesh_;
};

}  // namespace torii::compile
