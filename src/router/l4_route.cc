#include "router/l4_route.h"

#include <cassert>

#include "http/header_map.h"

namespace torii::router {

size_t server_name_rank(const std::vector<std::string>& names, std::string_view sni) {
  if (names.empty()) return 1;
  size_t best = 0;
  for (const std::string& pattern : names) {
    if (http::iequals(pattern, sni)) return static_cast<size_t>(-1);
    // "*.a.com" takes "b.a.com" (and "c.b.a.com", as Envoy's wildcard
    // server names do), never "a.com" itself.
    if (pattern.starts_with("*.") && sni.size() > pattern.size() - 1 &&
        http::iequals(std::string_view(pattern).substr(1), sni.substr(sni.size() - (pattern.size() - 1)))) {
      best = std::max(best, 2 + pattern.size());
    }
  }
  return best;
}

}  // namespace torii::router
