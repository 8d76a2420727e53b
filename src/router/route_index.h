// An index over one virtual host's routes by their path matcher, so a
// request is checked only against the routes whose path can match it
// instead of walking thousands of rules (issue 6: 10,000 routes must cost
// no more than a few percent).
//
// It only narrows: every route whose path matcher could accept the path is
// a candidate, candidates are tried in route order with the full
// RouteMatch::matches, and so the first matching route is the same one the
// linear walk finds. Exact paths are hashed; prefixes are hashed by length
// (one lookup per distinct prefix length); regex and presence path matchers
// are always candidates. ignoreUriCase routes are keyed lower-case and
// looked up with the lower-cased path.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace torii::router {

struct Route;
struct RequestView;

class RouteIndex {
 public:
  // Below this many routes the plain walk is as fast; no index is built.
  static constexpr size_t kMinRoutes = 16;

  void build(const std::vector<Route>& routes);
  bool built() const { return built_; }
  // The first route (in order) whose match accepts `request`, or nullptr.
  const Route* match(const std::vector<Route>& routes, const RequestView& request) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Ids = std::vector<uint32_t>;  // route positions, ascending
  using Map = std::unordered_map<std::string, Ids, StringHash, std::equal_to<>>;

  // One case flavour: exact paths, prefixes, and the prefix lengths in use.
  struct Keys {
    Map exact;
    Map prefix;
    std::vector<size_t> prefix_lengths;  // ascending, distinct
    bool empty() const { return exact.empty() && prefix.empty(); }
  };

  static void collect(const Keys& keys, std::string_view path, std::vector<uint32_t>& out);

  bool built_ = false;
  Keys sensitive_;
  Keys insensitive_;  // ignoreUriCase: lower-case keys
  Ids always_;        // regex / presence path matchers
};

}  // namespace torii::router
