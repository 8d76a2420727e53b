#include "explain/policies.h"

#include "explain/route_policies_json.h"

namespace torii::explain {

void describe_policies(const router::Route& route, nlohmann::json& out) {
  // Header operations and rewrites are reported with the action; the
  // per-route policies (timeout, retries, fault, mirrors, CORS) are the same
  // JSON /config_dump shows for the route.
  const nlohmann::json policies = route_policies_json(route.action.policies);
  for (const auto& [name, value] : policies.items()) out[name] = value;
}

}  // namespace torii::explain
