// gRPC at the gateway, as Envoy treats it (ISTIO_SEMANTICS §8): which
// requests are gRPC, how a local reply becomes a trailers-only gRPC
// response (HTTP 200, grpc-status, grpc-message) that gRPC clients read,
// and the grpc-timeout header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/header_map.h"

namespace torii::proxy {

// Envoy's Grpc::Common::hasGrpcContentType: content-type is
// "application/grpc", or starts with "application/grpc+" or "application/grpc;".
bool is_grpc_request(const http::HeaderMap& headers);

// Envoy's Grpc::Utility::httpToGrpcStatus (source/common/grpc/status.cc),
// for local replies that carry no gRPC status of their own.
int http_to_grpc_status(int http_status);

// grpc-message is percent-encoded (gRPC HTTP/2 protocol spec): bytes outside
// 0x20..0x7e, and '%' itself, become %XX.
std::string grpc_percent_encode(std::string_view text);

// Envoy's Grpc::Common::getGrpcTimeout: "<1-8 digits><H|M|S|m|u|n>" in
// whole milliseconds (truncated, so "500u" is 0 = no deadline, as in
// Envoy). false if absent or malformed (then ignored).
bool parse_grpc_timeout(std::string_view value, uint64_t& ms);
// Envoy's Grpc::Common::toGrpcTimeout: milliseconds as the header value
// ("100m", or in a coarser unit when the number needs more than 8 digits).
std::string format_grpc_timeout(uint64_t ms);

// The route timeout of a gRPC request (Envoy's FilterUtility::finalTimeout
// with Istio's max_grpc_timeout = the route timeout): the client's
// grpc-timeout, capped by the route timeout when that is set; without the
// header, the route timeout. 0 = none.
uint64_t grpc_route_timeout_ms(uint64_t route_timeout_ms, const http::HeaderMap& headers);

}  // namespace torii::proxy
