#include "proxy/route_reply.h"

namespace torii::proxy {

bool route_reply(const router::Route& route, const RouteReplyRequest& request, LocalReply& reply,
                 std::string& location) {
  const router::RedirectRequest info{request.scheme, request.host, request.forwarded_proto,
                                     request.path_and_query};
  if (route.redirect) {
    // Envoy: empty body, `location` built by Http::Utility::newUri.
    location = router::redirect_location(*route.redirect, route.match.path, info);
    reply = LocalReply{route.redirect->status, {}, location};
    return true;
  }
  if (route.direct_response) {
    location = router::direct_response_location(route.direct_response->status, info);
    reply = LocalReply{route.direct_response->status, route.direct_response->body, location};
    return true;
  }
  return false;
}

}  // namespace torii::proxy
