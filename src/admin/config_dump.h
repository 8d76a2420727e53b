// Renders /config_dump: the resources in force (with generation), the rejected
// ones (with their errors), and the compiled listeners, virtual hosts, routes
// and clusters with endpoints — what `istioctl proxy-config` shows for Envoy.
#pragma once

#include <nlohmann/json.hpp>

#include "admin/config_state.h"

namespace torii::admin {

nlohmann::json config_dump(const ConfigState& state);
nlohmann::json snapshot_to_json(const compile::Snapshot& snapshot);
nlohmann::json dns_to_json(const dns::ResolvedNames& names);

}  // namespace torii::admin
