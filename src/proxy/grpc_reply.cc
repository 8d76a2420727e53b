#include "proxy/grpc_reply.h"

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

}  // namespace torii::proxy
