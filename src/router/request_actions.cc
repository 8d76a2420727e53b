#include "router/request_actions.h"

namespace torii::router {

bool apply_request_actions(const Route& route, const WeightedCluster& chosen, http::HeaderMap& headers,
                           std::string_view path_and_query, std::string& new_target) {
  const RouteAction& action = route.action;
  if (!chosen.headers.empty()) {
    chosen.headers.request.apply(headers);
    if (!chosen.headers.host_rewrite.empty()) headers.set("host", chosen.headers.host_rewrite);
  }
  if (!action.headers.request.empty()) action.headers.request.apply(headers);
  if (!action.headers.host_rewrite.empty()) headers.set("host", action.headers.host_rewrite);
  if (action.path_rewrite.kind == PathRewrite::Kind::None) return false;
  if (!rewrite_path(action.path_rewrite, route.match.path, path_and_query, new_target)) return false;
  headers.set("x-envoy-original-path", path_and_query);
  return true;
}

void apply_response_actions(const Route& route, const WeightedCluster* chosen, http::HeaderMap& headers) {
  if (chosen != nullptr && !chosen->headers.response.empty()) chosen->headers.response.apply(headers);
  if (!route.action.headers.response.empty()) route.action.headers.response.apply(headers);
}

}  // namespace torii::router
