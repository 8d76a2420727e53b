// /listeners, Envoy's admin page of that name: every bound listener and the
// address it is bound to, with the port the kernel picked for a listener
// configured with port 0 (--port-map GW=0).
//
// Text (default), Envoy's format: one `<name>::<address>:<port>` line per
// listener. `?format=json`: Envoy's admin.v3.Listeners,
//   {"listener_statuses": [{"name", "local_address": {"socket_address":
//     {"address", "port_value"}}}]}
// and, per listener, Torii's own "gateway_port" (the Gateway port.number it
// serves), "configured_port" (after --port-map; 0: the kernel picks) and
// "kinds" (compile::Listener::kinds(): "HTTP", "HTTPS", "TLS_PASSTHROUGH", ...).
#pragma once

#include <string>

#include "admin/admin_server.h"
#include "admin/config_state.h"

namespace torii::admin {

AdminResponse listeners_page(const ConfigState& state, const std::string& query);

}  // namespace torii::admin
