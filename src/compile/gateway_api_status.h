// Gateway API status as a controller writes it (GATEWAY_API.md §9):
// conditions per GatewayClass, Gateway, listener and route parent. No
// Kubernetes exists to write it back to; `torii validate` prints it and the
// admin endpoint serves it at /status, as the YAML `kubectl get -o yaml`
// would show under `status:`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torii::compile {

struct GatewayApiCondition {
  std::string type;
  bool status = true;
  std::string reason;
  std::string message;
};

struct GatewayApiListenerStatus {
  std::string name;
  std::vector<std::string> supported_kinds;  // route kinds (group gateway.networking.k8s.io)
  uint32_t attached_routes = 0;
  std::vector<GatewayApiCondition> conditions;
};

struct GatewayApiObjectStatus {
  std::string kind;  // GatewayClass, Gateway, HTTPRoute
  std::string namespace_;
  std::string name;
  std::vector<GatewayApiCondition> conditions;      // GatewayClass, Gateway
  std::vector<GatewayApiListenerStatus> listeners;  // Gateway
  struct Parent {
    std::string namespace_;
    std::string name;
    std::string section_name;
    uint32_t port = 0;
    std::vector<GatewayApiCondition> conditions;
  };
  std::vector<Parent> parents;  // HTTPRoute
};

inline constexpr const char* kIstioGatewayController = "istio.io/gateway-controller";

// The objects' status as YAML documents (one per object, `---` separated),
// each with apiVersion, kind, metadata and status; "" when there are none.
std::string format_gateway_api_status(const std::vector<GatewayApiObjectStatus>& objects);

}  // namespace torii::compile
