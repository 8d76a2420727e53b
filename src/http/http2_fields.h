// Header fields on HTTP/2, shared by the server codec (proxy/http2_connection)
// and the client codec (upstream/http2_client): which fields never go on an
// HTTP/2 connection, and nghttp2's name/value pair for a field.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string_view>

namespace torii::http {

// RFC 9113 8.2.2: connection-specific fields, never sent on HTTP/2
// (`te` is allowed only as `te: trailers`; callers handle it). `name` is
// lower-case. Dispatched on length: it runs for every field.
inline bool is_http2_connection_specific(std::string_view name) {
  switch (name.size()) {
    case 7:
      return name == "upgrade";
    case 10:
      return name == "connection" || name == "keep-alive";
    case 16:
      return name == "proxy-connection";
    case 17:
      return name == "transfer-encoding";
    default:
      return false;
  }
}

// A field as nghttp2 takes it. nghttp2 copies both (no NO_COPY flags), so
// the views need only live until the submit call returns.
inline nghttp2_nv http2_field(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                    NGHTTP2_NV_FLAG_NONE};
}

}  // namespace torii::http
