// Telemetry accessLogging `filter.expression`: the part of CEL a gateway's
// access-log filters use in practice, comparisons of `response.code` with
// integers joined by && and || (with parentheses and !), e.g.
// `response.code >= 400 || response.code == 0`. Anything else is an error
// naming what is not supported, so a filter never silently matches wrong.
//
// Compiled once per config load into a small postfix program; evaluating it
// for a stream costs a few integer compares, no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace torii::config {

class AccessLogFilter {
 public:
  // nullopt + error (with the offset) for what does not parse or is not supported.
  static std::optional<AccessLogFilter> parse(std::string_view expression, std::string& error);

  bool matches(int response_code) const;
  const std::string& expression() const { return expression_; }

 private:
  enum class Op : uint8_t { Code, Int, Eq, Ne, Lt, Le, Gt, Ge, And, Or, Not };
  struct Step {
    Op op;
    int64_t value = 0;  // Int
  };
  std::vector<Step> program_;  // postfix
  std::string expression_;
  friend class FilterParser;
};

}  // namespace torii::config
