// Envoy's /stats?filter=<regex>: only the lines whose stat name the RE2
// regex matches somewhere (a partial match, as Envoy's filter). With 10,000
// clusters /stats is ~50 MB; a filter is how a script reads one figure, so
// the filter also says whether a whole group of lines (every
// "cluster.<name>.*") can match at all, and the page skips rendering a
// group it cannot.
#pragma once

#include <re2/re2.h>

#include <string>
#include <string_view>

namespace torii::admin {

class StatsFilter {
 public:
  explicit StatsFilter(const std::string& pattern);
  bool ok() const { return re_.ok(); }
  // Does the name match (somewhere in it)?
  bool matches(std::string_view name) const { return RE2::PartialMatch(name, re_); }
  // Could a name that starts with `prefix` match? False only when RE2 can
  // bound every matching string (an anchored pattern) away from `prefix`.
  bool may_match_prefix(std::string_view prefix) const;
  // The lines of `body` ("name: value\n"...) whose name matches.
  std::string filter_lines(std::string_view body) const;

 private:
  RE2 re_;
  bool bounded_ = false;     // common_head_ is known
  std::string common_head_;  // every text the pattern matches starts with it
};

}  // namespace torii::admin
