// http:// and https:// URLs as Torii's own clients take them (the etcd
// client, the remote JWKS fetch, the OTLP span exporter): a scheme, an
// authority with an optional port ([v6] hosts in brackets), and a path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace torii::http {

struct HttpUrl {
  bool tls = false;       // https
  std::string host;       // without brackets
  uint16_t port = 0;      // as written, else the default
  std::string authority;  // host[:port] as written (the Host header)
  std::string path;       // from the first '/' on; "" when the URL has none
};

// Parses `url`; a URL without a port gets `default_port` (0: 80 for http,
// 443 for https). False for another scheme, an empty host, an unclosed
// '[', or a port that is not 1-65535.
bool parse_http_url(std::string_view url, HttpUrl& out, uint16_t default_port = 0);

}  // namespace torii::http
