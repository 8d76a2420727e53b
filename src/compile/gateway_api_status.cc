#include "compile/gateway_api_status.h"

namespace torii::compile {
namespace {

// A YAML scalar that reads back as the same string.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void conditions(std::string& out, const std::vector<GatewayApiCondition>& list, const std::string& indent) {
  out += indent + "conditions:\n";
  for (const GatewayApiCondition& c : list) {
    out += indent + "- type: " + c.type + "\n";
    out += indent + "  status: \"" + (c.status ? "True" : "False") + "\"\n";
    out += indent + "  reason: " + c.reason + "\n";
    out += indent + "  message: " + quoted(c.message) + "\n";
  }
}

}  // namespace

std::string format_gateway_api_status(const std::vector<GatewayApiObjectStatus>& objects) {
  std::string out;
  for (const GatewayApiObjectStatus& o : objects) {
    if (!out.empty()) out += "---\n";
    out += "apiVersion: gateway.networking.k8s.io/v1\n";
    out += "kind: " + o.kind + "\n";
    out += "metadata:\n  name: " + o.name + "\n";
    if (!o.namespace_.empty()) out += "  namespace: " + o.namespace_ + "\n";
    out += "status:\n";
    if (o.kind.ends_with("Route")) {  // HTTPRoute, GRPCRoute, TLSRoute, TCPRoute
      out += "  parents:\n";
      for (const auto& p : o.parents) {
        out += "  - parentRef:\n";
        out += "      group: gateway.networking.k8s.io\n      kind: Gateway\n";
        out += "      namespace: " + p.namespace_ + "\n      name: " + p.name + "\n";
        if (!p.section_name.empty()) out += "      sectionName: " + p.section_name + "\n";
        if (p.port != 0) out += "      port: " + std::to_string(p.port) + "\n";
        out += std::string("    controllerName: ") + kIstioGatewayController + "\n";
        conditions(out, p.conditions, "    ");
      }
      continue;
    }
    conditions(out, o.conditions, "  ");
    if (o.kind != "Gateway") continue;
    out += "  listeners:\n";
    for (const auto& l : o.listeners) {
      out += "  - name: " + l.name + "\n";
      out += "    attachedRoutes: " + std::to_string(l.attached_routes) + "\n";
      out += l.supported_kinds.empty() ? "    supportedKinds: []\n" : "    supportedKinds:\n";
      for (const std::string& k : l.supported_kinds)
        out += "    - group: gateway.networking.k8s.io\n      kind: " + k + "\n";
      conditions(out, l.conditions, "    ");
    }
  }
  return out;
}

}  // namespace torii::compile
