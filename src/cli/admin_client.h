// A blocking HTTP/1.1 GET against Torii's own admin endpoint, for `torii get`.
// The admin server answers one request per connection with content-length
// and `connection: close`, so reading to EOF is the whole protocol here.
#pragma once

#include <cstdint>
#include <string>

namespace torii::cli {

struct AdminReply {
  int status = 0;
  std::string body;
};

// GET `target` ("/clusters?format=json") from host:port (numeric IPv4/IPv6),
// waiting at most `timeout_ms` to connect and for each read. On failure returns
// false with `error` saying why ("connection refused", "timed out", ...).
bool admin_get(const std::string& host, uint16_t port, const std::string& target, AdminReply& reply,
               std::string& error, int timeout_ms = 5000);

}  // namespace torii::cli
