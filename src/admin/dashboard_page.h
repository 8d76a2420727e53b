// GET / on the admin port: the dashboard, one self-contained HTML page
// (src/admin/dashboard.html, compiled in by cmake/embed.cmake; no external
// scripts, fonts or styles) that polls /dashboard.json (admin/dashboard_json.h)
// and draws listeners, routes, clusters, rates, latencies, rejected objects
// and the reload history. docs/dashboard.md.
#pragma once

#include <string_view>

#include "admin/admin_server.h"

namespace torii::admin {

extern const std::string_view kDashboardHtml;  // the generated source defines it

AdminResponse dashboard_page();

}  // namespace torii::admin
