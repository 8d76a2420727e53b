#include "admin/stats_filter.h"

#include <algorithm>

namespace torii::admin {

StatsFilter::StatsFilter(const std::string& pattern) : re_(pattern, RE2::Quiet) {
  // RE2's range bounds the matches that start at the name's first byte;
  // a partial match may start anywhere. So only a pattern that is anchored
  // as a whole (a leading ^, no alternation that could escape it) is
  // bounded; any other renders every group, as before.
  std::string min;
  std::string max;
  if (re_.ok() && !pattern.empty() && pattern.front() == '^' && pattern.find('|') == std::string::npos &&
      re_.PossibleMatchRange(&min, &max, 64)) {
    bounded_ = true;
    size_t n = 0;
    while (n < min.size() && n < max.size() && min[n] == max[n]) ++n;
    common_head_ = min.substr(0, n);
  }
}

bool StatsFilter::may_match_prefix(std::string_view prefix) const {
  if (!bounded_) return true;
  // A matching name starts with a matched text m, min_ <= m <= max_, and
  // every such m starts with the common prefix of min_ and max_ (a string
  // between two others shares their common head). A name starting with
  // `prefix` can only match when that head and `prefix` agree as far as
  // both go. (Comparing `prefix` with max_ directly was wrong when a match
  // may be shorter than max_: "^c[a-k]?" matches "cluster.".)
  const std::string_view head = common_head_;
  const size_t n = std::min(head.size(), prefix.size());
  return head.substr(0, n) == prefix.substr(0, n);
}

std::string StatsFilter::filter_lines(std::string_view body) const {
  std::string out;
  for (size_t start = 0; start < body.size();) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    if (matches(line.substr(0, line.find(':')))) {
      out += line;
      out += '\n';
    }
    start = end + 1;
  }
  return out;
}

}  // namespace torii::admin
