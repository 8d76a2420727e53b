// The admin pages: the dashboard (/ and /dashboard.json), /ready, /config_dump, /stats,
// /stats/prometheus, /clusters, /listeners, /explain, and an index (/help).
#pragma once

#include <functional>
#include <string>

#include "admin/admin_server.h"
#include "admin/config_state.h"
#include "proxy/server.h"

namespace torii::admin {

// Builds the handler serving every admin page from the shared state and the
// data plane's counters. Both referenced objects must outlive the handler.
// `version` is istio_build's tag on /stats/prometheus.
AdminServer::Handler make_admin_handler(const ConfigStateHolder& state, const proxy::Server& server,
                                        std::string version = "");

}  // namespace torii::admin
