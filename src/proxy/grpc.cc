#include "proxy/grpc.h"

namespace torii::proxy {

bool is_grpc_request(const http::HeaderMap& headers) {
  const std::string_view* type = headers.get("content-type");
  if (type == nullptr || !type->starts_with("application/grpc")) return false;
  const std::string_view rest = type->substr(16);
  return rest.empty() || rest.front() == '+' || rest.front() == ';';
}

int http_to_grpc_status(int http_status) {
  switch (http_status) {
    case 400:
      return 13;  // INTERNAL
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 12;  // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

std::string grpc_percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

bool parse_grpc_timeout(std::string_view value, uint64_t& ms) {
  if (value.size() < 2 || value.size() > 9) return false;
  uint64_t n = 0;
  for (char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  switch (value.back()) {
    case 'H':
      ms = n * 3600 * 1000;
      return true;
    case 'M':
      ms = n * 60 * 1000;
      return true;
    case 'S':
      ms = n * 1000;
      return true;
    case 'm':
      ms = n;
      return true;
    case 'u':
      ms = n / 1000;
      return true;
    case 'n':
      ms = n / 1000000;
      return true;
    default:
      return false;
  }
}

std::string format_grpc_timeout(uint64_t ms) {
  // At most 8 digits (gRPC's rule): coarser units until the value fits.
  static constexpr struct {
    uint64_t per;
    char unit;
  } kUnits[] = {{1, 'm'}, {1000, 'S'}, {60 * 1000, 'M'}, {3600 * 1000, 'H'}};
  for (const auto& u : kUnits) {
    const uint64_t n = ms / u.per;  // truncated, as Envoy
    if (n <= 99999999) return std::to_string(n) + u.unit;
  }
  return "99999999H";
}

uint64_t grpc_route_timeout_ms(uint64_t route_timeout_ms, const http::HeaderMap& headers) {
  uint64_t header_ms = 0;
  const std::string_view* value = headers.get("grpc-timeout");
  if (value == nullptr || !parse_grpc_timeout(*value, header_ms)) header_ms = 0;
  if (route_timeout_ms != 0 && (header_ms == 0 || header_ms > route_timeout_ms)) return route_timeout_ms;
  return header_ms;
}

}  // namespace torii::proxy
