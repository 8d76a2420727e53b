// A route's policies (timeout, retries, fault, mirrors, CORS) as JSON, for
// /config_dump and anything else that explains a route.
#pragma once

#include <nlohmann/json.hpp>

#include "router/route_policies.h"

namespace torii::explain {

nlohmann::json route_policies_json(const router::RoutePolicies& policies);

}  // namespace torii::explain
