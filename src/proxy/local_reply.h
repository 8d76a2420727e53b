// Responses the gateway makes up itself (Envoy "local replies"): 404 NR,
// 503 NC/UH/UF/UC, 502 UPE, 400, 426, 431, 301 https redirect. Status codes
// and bodies follow ISTIO_SEMANTICS.md §8 exactly; every one carries
// `server` and `date`, and one with a body `content-type: text/plain`.
#pragma once

#include <string_view>

#include "http/header_map.h"
#include "net/buffer.h"
#include "router/route_table.h"

namespace torii::proxy {

// Bodies clients and dashboards key on (§8).
inline constexpr std::string_view kNoHealthyUpstream = "no healthy upstream";
inline constexpr std::string_view kConnectionFailure =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
inline constexpr std::string_view kConnectionTermination =
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
inline constexpr std::string_view kRemoteReset =
    "upstream connect error or disconnect/reset before headers. reset reason: remote reset";
inline constexpr std::string_view kRemoteRefusedStream =
    "upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset";
inline constexpr std::string_view kProtocolError =
    "upstream connect error or disconnect/reset before headers. reset reason: protocol error";
inline constexpr std::string_view kOverflow =
    "upstream connect error or disconnect/reset before headers. reset reason: overflow";
inline constexpr std::string_view kBadRequest = "Bad Request";
inline constexpr std::string_view kNotImplemented = "Not Implemented";
// Envoy's codec errors answer with the status's reason phrase as the body
// (sendProtocolError -> CodeUtility::toString).
inline constexpr std::string_view kHeadersTooLarge = "Request Header Fields Too Large";
inline constexpr std::string_view kRequestHeaderTimeout = "request header timeout";
// Envoy's dynamic forward proxy when the target does not resolve (503, DF).
inline constexpr std::string_view kDnsResolutionFailure = "DNS resolution failure";

struct LocalReply {
  int status = 0;
  std::string_view body;
  std::string_view location;  // set => `location` header (redirects)
  // More response headers (CORS preflight answers, gRPC fault aborts).
  const http::HeaderMap* headers = nullptr;
  bool overloaded = false;  // circuit-breaker overflow: `x-envoy-overloaded: true`
  // For gRPC requests: the status to answer with (else mapped from `status`).
  int grpc_status = -1;
};

struct LocalReplyContext {
  std::string_view server;
  std::string_view date;
  bool close_connection = false;   // adds `connection: close`
  bool keep_alive_http10 = false;  // adds `connection: keep-alive`
  bool head_request = false;       // headers only, no body bytes
  // The matched route, if any: its response header operations apply to the
  // replies the router makes for it (redirect, direct response, 503 ...),
  // as Envoy's router applies finalizeResponseHeaders to its local replies.
  const router::Route* route = nullptr;
  const router::WeightedCluster* cluster = nullptr;
  // A gRPC request: the reply is trailers-only (HTTP 200, content-type
  // application/grpc, grpc-status, grpc-message = the body, no body), as
  // Envoy's sendLocalReply does for gRPC; build_local_reply_headers then
  // returns 200 and the caller sends no body.
  bool grpc = false;
};

// The reply's headers, codec-neutral: location, x-envoy-overloaded, the
// reply's own extra headers, content-length, content-type, date, server,
// and the route's response header operations. No connection fields.
// Returns the status to send (200 for gRPC).
int build_local_reply_headers(const LocalReply& reply, const LocalReplyContext& context,
                              http::HeaderMap& headers);
// HTTP/1: the whole reply (head with `connection` as the context says, and
// the body unless it answers HEAD) into `out`. For replies made outside a
// stream (codec errors, CONNECT tunnels).
void write_local_reply(net::Buffer& out, const LocalReply& reply, const LocalReplyContext& context);

}  // namespace torii::proxy
