// The start line, headers and framing of one HTTP/1 message, as parsed.
#pragma once

#include <cstdint>
#include <string>

#include "http/header_map.h"

namespace torii::http {

struct MessageHead {
  HeaderMap headers;
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  // HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
  bool keep_alive = true;
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;

  bool http10() const { return version_major == 1 && version_minor == 0; }
  // A body follows the head (for requests; responses also depend on status/HEAD).
  bool has_body() const { return chunked || content_length > 0; }
  void clear() {
    headers.clear();
    version_major = 1;
    version_minor = 1;
    keep_alive = true;
    chunked = false;
    has_content_length = false;
    content_length = 0;
  }
};

struct RequestHead : MessageHead {
  std::string method;    // as sent ("GET")
  std::string target;    // request-target as sent: origin-form, absolute-form, ...
  bool upgrade = false;  // Connection: upgrade + Upgrade:, or CONNECT
};

struct ResponseHead : MessageHead {
  int status = 0;
};

}  // namespace torii::http
