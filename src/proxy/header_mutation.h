// What the gateway changes in request and response headers on the way
// through (ISTIO_SEMANTICS.md §4.2, §4.3), as pure functions over a
// HeaderMap so they are testable without sockets.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/header_map.h"

namespace torii::proxy {

// Envoy's Utility::appendXff joins with "," (no space): "a,b".
inline constexpr std::string_view kXffDelimiter = ",";

// Removes the hop-by-hop fields of RFC 9110 7.6.1 plus the legacy ones
// (keep-alive, proxy-connection, http2-settings) and every field the
// Connection header names. Framing (transfer-encoding) is re-done by the
// caller.
void strip_hop_by_hop(http::HeaderMap& headers);

// Envoy's Utility::sanitizeConnectionHeader, for a request: false (-> 400)
// when Connection names 10 or more tokens, or names x-forwarded-for,
// x-forwarded-host, x-forwarded-proto or a pseudo-header (":..."); removing
// those would hide where the request came from.
bool connection_nominations_allowed(const http::HeaderMap& headers);

struct EdgeRequestInfo {
  std::string_view peer_ip;
  std::string_view scheme = "http";     // x-forwarded-proto
  std::string_view request_id;          // fresh UUID
  std::string_view absolute_authority;  // non-empty for an absolute-form target: becomes Host
  bool chunked_body = false;            // body re-framed as chunked upstream
  bool has_te = false;                  // the request has a TE field
  bool keep_request_id = false;         // --preserve-request-id and the client sent one
  std::string_view external_address;    // x-envoy-external-address; empty: peer_ip
};

// The client address Envoy derives with xff_num_trusted_hops = `hops`
// (use_remote_address on): the `hops`-th X-Forwarded-For entry from the
// right as the client sent it, else `peer` (no hops trusted, or fewer
// entries than that). A view into the header or into `peer`.
std::string_view trusted_client_address(const http::HeaderMap& headers, std::string_view peer, uint32_t hops);

// The request an edge gateway sends upstream (§4.3): hop-by-hop removed,
// client `x-envoy-*` removed, XFF appended, x-forwarded-proto,
// x-request-id (replaced), x-envoy-external-address, x-envoy-attempt-count
// (Istio sets include_request_attempt_count), Host kept (or taken from an
// absolute-form target), transfer-encoding for a chunked body, and `te:
// trailers` kept when the client's TE lists trailers (Envoy's
// sanitizeTEHeader: gRPC needs it).
void mutate_edge_request_headers(http::HeaderMap& headers, const EdgeRequestInfo& info);

struct ResponseInfo {
  std::string_view server;
  std::string_view date;
  int64_t upstream_service_time_ms = -1;  // < 0: local reply, no header
};

// The response sent downstream, whatever the codec: hop-by-hop removed,
// `server` overwritten, `date` set, x-envoy-upstream-service-time. The
// codec adds its own framing (add_http1_framing for HTTP/1).
void mutate_response_headers(http::HeaderMap& headers, const ResponseInfo& info);

// HTTP/1 only: how a response is framed and whether the connection stays.
struct Http1Framing {
  bool chunked = false;  // body re-framed as chunked
  bool close_connection = false;
  bool keep_alive_http10 = false;  // an HTTP/1.0 client's connection stays open
};
void add_http1_framing(http::HeaderMap& headers, const Http1Framing& framing);

}  // namespace torii::proxy
