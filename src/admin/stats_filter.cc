#include "admin/stats_filter.h"

namespace torii::admin {

StatsFilter::StatsFilter(const std::string& pattern) : re_(pattern, RE2::Quiet) {
  // RE2's range bounds the matches that start at the name's first byte;
  // a partial match may start anywhere. So only a pattern that is anchored
  // as a whole (a leading ^, no alternation that could escape it) is
  // bounded; any other renders every group, as before.
  if (re_.ok() && !pattern.empty() && pattern.front() == '^' && pattern.find('|') == std::string::npos)
    bounded_ = re_.PossibleMatchRange(&min_, &max_, 64);
}

bool StatsFilter::may_match_prefix(std::string_view prefix) const {
  if (!bounded_) return true;
  // A matching name starts with a matched text m, min_ <= m <= max_, and
  // may go on after it. Names starting with `prefix` miss every such name
  // when the prefix is past all of them (past max_ where it is compared)
  // or before all of them (min_'s head is past the prefix).
  const std::string_view max = max_;
  const std::string_view min = min_;
  if (prefix.substr(0, max.size()) > max) return false;
  return min.substr(0, prefix.size()) <= prefix;
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
