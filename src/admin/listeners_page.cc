#include "admin/listeners_page.h"

#include <nlohmann/json.hpp>

#include "net/socket_ops.h"

namespace torii::admin {

AdminResponse listeners_page(const ConfigState& state, const std::string& query) {
  const bool as_json = query_param(query, "format") == "json";
  nlohmann::json statuses = nlohmann::json::array();
  std::string text;
  if (state.snapshot) {
    for (const compile::Listener& l : state.snapshot->listeners) {
      auto bound = state.bound_ports.find(l.name);
      if (bound == state.bound_ports.end()) continue;  // not listening: see /ready
      if (!as_json) {
        text += l.name + "::" + net::address_with_port(l.bind, bound->second) + "\n";
        continue;
      }
      statuses.push_back(
          {{"name", l.name},
           {"local_address", {{"socket_address", {{"address", l.bind}, {"port_value", bound->second}}}}},
           {"gateway_port", l.gateway_port},
           {"configured_port", l.listen_port},
           {"kinds", l.kinds()}});
    }
  }
  if (!as_json) return {200, "text/plain", text};
  return {200, "application/json", nlohmann::json{{"listener_statuses", statuses}}.dump(2) + "\n"};
}

}  // namespace torii::admin
