// Answers for routes that answer themselves (VirtualService `redirect` and
// `directResponse`, ISTIO_SEMANTICS §3.6, §8): status, body and Location,
// computed with the same router functions `torii explain` uses.
#pragma once

#include <string>
#include <string_view>

#include "proxy/local_reply.h"
#include "router/route_table.h"

namespace torii::proxy {

struct RouteReplyRequest {
  std::string_view scheme;           // of the downstream connection
  std::string_view host;             // Host as received
  std::string_view forwarded_proto;  // x-forwarded-proto after the edge changes
  std::string_view path_and_query;
};

// Fills `reply` for a redirect or direct-response route and returns true;
// false for a route that goes upstream. `location` holds the Location
// header's storage (reply.location views it); the body views the route's
// own storage, which lives as long as the snapshot.
bool route_reply(const router::Route& route, const RouteReplyRequest& request, LocalReply& reply,
                 std::string& location);

}  // namespace torii::proxy
