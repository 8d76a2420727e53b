// gRPC at the gateway, as Envoy treats it (ISTIO_SEMANTICS §8): which
// requests are gRPC, and how a local reply becomes a trailers-only gRPC
// response (HTTP 200, grpc-status, grpc-message) that gRPC clients read.
#pragma once

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

}  // namespace torii::proxy
