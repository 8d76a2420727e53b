#include "proxy/local_reply.h"

#include <charconv>
#include <string>

#include "http/header_map.h"
#include "http/http1_serializer.h"
#include "proxy/grpc.h"
#include "proxy/header_mutation.h"
#include "router/request_actions.h"

namespace torii::proxy {

int build_local_reply_headers(const LocalReply& reply, const LocalReplyContext& context,
                              http::HeaderMap& headers) {
  if (!reply.location.empty()) headers.add("location", reply.location);
  if (reply.overloaded) headers.add("x-envoy-overloaded", "true");
  if (reply.headers != nullptr) {
    for (const http::HeaderMap::Entry& e : reply.headers->entries()) headers.add(e.name, e.value);
  }
  if (context.grpc) {
    headers.add("content-type", "application/grpc");
    const int code = reply.grpc_status >= 0 ? reply.grpc_status : http_to_grpc_status(reply.status);
    char digits[12];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), code);
    (void)ec;
    headers.add("grpc-status", std::string_view(digits, static_cast<size_t>(end - digits)));
    if (!reply.body.empty() && !context.head_request)
      headers.add("grpc-message", grpc_percent_encode(reply.body));
  } else {
    headers.add("content-length", std::to_string(reply.body.size()));
    if (!reply.body.empty()) headers.add("content-type", "text/plain");
  }
  headers.add("date", context.date);
  headers.add("server", context.server);
  if (context.route != nullptr) {
    router::apply_response_actions(*context.route, context.cluster, headers);
    // Framing and the server header stay the gateway's.
    if (context.grpc) {
      headers.remove("content-length");
    } else {
      headers.set("content-length", std::to_string(reply.body.size()));
    }
    headers.set("server", context.server);
  }
  return context.grpc ? 200 : reply.status;
}

void write_local_reply(net::Buffer& out, const LocalReply& reply, const LocalReplyContext& context) {
  http::HeaderMap headers;
  const int status = build_local_reply_headers(reply, context, headers);
  add_http1_framing(headers, Http1Framing{false, context.close_connection, context.keep_alive_http10});
  http::write_response_head(out, status, headers);
  if (!context.head_request && !context.grpc) out.append(reply.body);
}

}  // namespace torii::proxy
