// gRPC-Web to gRPC and back, as Envoy's grpc_web filter does it (an Istio
// gateway carries it by default). Browsers cannot read HTTP/2 trailers, so
// gRPC-Web moves them into the body, and the -text variant base64-encodes
// the whole body:
//
// * request: content-type application/grpc-web[-text][+proto] becomes
//   application/grpc with `te: trailers`; a -text body is base64-decoded
//   (so its length changes: content-length is dropped).
// * response: content-type becomes application/grpc-web[-text]+proto; the
//   trailers become a final body frame (flag 0x80, 4-byte length,
//   "name:value\r\n" lines); for -text, the body is base64-encoded.
//   A trailers-only response keeps grpc-status in its headers.
//
// One per stream; pure byte transforms (unit-tested), the ActiveStream
// calls them. Worker thread only.
#pragma once

#include <string>
#include <string_view>

#include "http/header_map.h"

namespace torii::proxy {

class GrpcWeb {
 public:
  enum class Mode { None, Binary, Text };

  // The request's mode from its content-type (None: not gRPC-Web).
  static Mode detect(const http::HeaderMap& request_headers);

  explicit GrpcWeb(Mode mode) : mode_(mode) {}
  Mode mode() const { return mode_; }
  bool text() const { return mode_ == Mode::Text; }

  // The request head as the gRPC upstream must see it.
  void translate_request_headers(http::HeaderMap& headers) const;
  // Request body bytes to send upstream (decoded for -text); false if the
  // client sent invalid base64 (the request is then reset).
  bool decode_request_body(std::string_view data, std::string& out);
  // The response head as the gRPC-Web client must see it.
  void translate_response_headers(http::HeaderMap& headers) const;
  // Response body bytes for the client (encoded for -text, whole 3-byte
  // groups; the rest waits for more or for finish()).
  void encode_response_body(std::string_view data, std::string& out);
  // The trailers as gRPC-Web's trailer frame, then what finish() adds.
  void encode_trailers(const http::HeaderMap& trailers, std::string& out);
  // The end of the response body: -text's last, padded group.
  void finish(std::string& out);

 private:
  void append_text(std::string_view data, std::string& out);

  Mode mode_;
  std::string pending_in_;   // -text request: base64 chars short of a 4-char group
  std::string pending_out_;  // -text response: bytes short of a 3-byte group
};

}  // namespace torii::proxy
