// GET /explain?method=GET&url=http://host/path&header=Name:value[&header=...][&format=text]
// `torii explain` for the configuration in force (explain/explain.h): JSON by
// default, the CLI's text with format=text. method defaults to GET.
#pragma once

#include "admin/admin_server.h"
#include "admin/config_state.h"

namespace torii::admin {

AdminResponse explain_page(const ConfigState& state, const AdminRequest& request);

}  // namespace torii::admin
