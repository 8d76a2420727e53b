// Writes HTTP/1.1 heads and body framing into a net::Buffer.
//
// Heads are written in one pass into the buffer's tail slice, so a head and
// the body bytes that follow go out in one writev. Header names are written
// as stored (lower-case, as Istio gateways send them on HTTP/1). Framing
// headers (content-length / transfer-encoding) are the caller's choice and
// must already be in the map.
#pragma once

#include <string_view>

#include "http/header_map.h"
#include "net/buffer.h"

namespace torii::http {

// "<method> <target> HTTP/1.1\r\n" + headers + "\r\n"
void write_request_head(net::Buffer& out, std::string_view method, std::string_view target,
                        const HeaderMap& headers);
// "HTTP/1.<minor> <status> <reason>\r\n" + headers + "\r\n"
void write_response_head(net::Buffer& out, int status, const HeaderMap& headers, int version_minor = 1);
// One chunk of a chunked body: "<hex size>\r\n<data>\r\n". Empty data writes nothing
// (a zero-size chunk would end the body).
void write_chunk(net::Buffer& out, std::string_view data);
// The terminating "0\r\n\r\n" (no trailers).
void write_last_chunk(net::Buffer& out);

}  // namespace torii::http
