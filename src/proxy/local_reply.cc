#include "proxy/local_reply.h"

#include <string>

#include "http/header_map.h"
#include "http/http1_serializer.h"
#include "router/request_actions.h"

namespace torii::proxy {

void write_local_reply(net::Buffer& out, const LocalReply& reply, const LocalReplyContext& context) {
  http::HeaderMap headers;
  if (!reply.location.empty()) headers.add("location", reply.location);
  if (reply.overloaded) headers.add("x-envoy-overloaded", "true");
  if (reply.headers != nullptr) {
    for (const http::HeaderMap::Entry& e : reply.headers->entries()) headers.add(e.name, e.value);
  }
  headers.add("content-length", std::to_string(reply.body.size()));
  if (!reply.body.empty()) headers.add("content-type", "text/plain");
  headers.add("date", context.date);
  headers.add("server", context.server);
  if (context.route != nullptr) {
    router::apply_response_actions(*context.route, context.cluster, headers);
    // Framing and the server header stay the gateway's.
    headers.set("content-length", std::to_string(reply.body.size()));
    headers.set("server", context.server);
  }
  if (context.close_connection) {
    headers.add("connection", "close");
  } else if (context.keep_alive_http10) {
    headers.add("connection", "keep-alive");
  }
  http::write_response_head(out, reply.status, headers);
  if (!context.head_request) out.append(reply.body);
}

}  // namespace torii::proxy
