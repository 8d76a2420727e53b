#include "explain/policies.h"

namespace torii::explain {

void describe_policies(const router::Route& route, nlohmann::json& out) {
  // Header operations and rewrites are reported with the action; the
  // per-route policies (timeout, retries, fault, mirror, CORS) go here once
  // router::RouteAction carries them, e.g.
  //   out["timeout"] = route.action.timeout_ms > 0 ? ... : "none (Istio default)";
  (void)route;
  (void)out;
}

}  // namespace torii::explain
