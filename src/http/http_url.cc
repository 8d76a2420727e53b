#include "http/http_url.h"

#include <charconv>

namespace torii::http {

bool parse_http_url(std::string_view url, HttpUrl& out, uint16_t default_port) {
  HttpUrl u;
  if (url.starts_with("https://")) {
    u.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return false;
  }
  const size_t slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) u.path = std::string(url.substr(slash));
  if (authority.empty()) return false;
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      port = authority.substr(close + 2);
      has_port = true;
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return false;
  if (has_port) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) return false;
    u.port = static_cast<uint16_t>(value);
  } else {
    u.port = default_port != 0 ? default_port : (u.tls ? 443 : 80);
  }
  u.host = std::string(host);
  u.authority = std::string(authority);
  out = std::move(u);
  return true;
}

}  // namespace torii::http
