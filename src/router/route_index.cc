#include "router/route_index.h"

#include <algorithm>
#include <cctype>

#include "http/header_map.h"
#include "router/route_table.h"

namespace torii::router {

void RouteIndex::build(const std::vector<Route>& routes) {
  *this = RouteIndex();
  if (routes.size() < kMinRoutes) return;
  for (uint32_t i = 0; i < routes.size(); ++i) {
    const StringMatcher& path = routes[i].match.path;
    Keys& keys = path.ignore_case ? insensitive_ : sensitive_;
    const std::string key = path.ignore_case ? http::to_lower(path.value) : path.value;
    switch (path.kind) {
      case StringMatcher::Kind::Exact:
        keys.exact[key].push_back(i);
        break;
      case StringMatcher::Kind::Prefix:
        keys.prefix[key].push_back(i);
        keys.prefix_lengths.push_back(key.size());
        break;
      case StringMatcher::Kind::Regex:
      case StringMatcher::Kind::Presence:
        always_.push_back(i);
        break;
    }
  }
  for (Keys* keys : {&sensitive_, &insensitive_}) {
    std::sort(keys->prefix_lengths.begin(), keys->prefix_lengths.end());
    keys->prefix_lengths.erase(std::unique(keys->prefix_lengths.begin(), keys->prefix_lengths.end()),
                               keys->prefix_lengths.end());
  }
  built_ = true;
}

void RouteIndex::collect(const Keys& keys, std::string_view path, std::vector<uint32_t>& out) {
  if (auto it = keys.exact.find(path); it != keys.exact.end())
    out.insert(out.end(), it->second.begin(), it->second.end());
  for (size_t length : keys.prefix_lengths) {
    if (length > path.size()) break;
    if (auto it = keys.prefix.find(path.substr(0, length)); it != keys.prefix.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
    }
  }
}

const Route* RouteIndex::match(const std::vector<Route>& routes, const RequestView& request) const {
  // Per-thread scratch: no allocation per request once warm.
  thread_local std::vector<uint32_t> candidates;
  thread_local std::string lowered;
  candidates.clear();
  collect(sensitive_, request.path, candidates);
  if (!insensitive_.empty()) {
    lowered.assign(request.path);
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    collect(insensitive_, lowered, candidates);
  }
  std::sort(candidates.begin(), candidates.end());
  // Walk the keyed candidates and the always-candidates together, in route order.
  size_t a = 0;
  size_t c = 0;
  while (a < always_.size() || c < candidates.size()) {
    uint32_t next;
    if (c == candidates.size() || (a < always_.size() && always_[a] < candidates[c])) {
      next = always_[a++];
    } else {
      next = candidates[c++];
    }
    if (routes[next].match.matches(request)) return &routes[next];
  }
  return nullptr;
}

}  // namespace torii::router
