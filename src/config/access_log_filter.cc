#include "config/access_log_filter.h"

#include <cctype>
#include <charconv>

namespace torii::config {

// Recursive descent over: or := and ('||' and)* ; and := unary ('&&' unary)* ;
// unary := '!' unary | primary ; primary := '(' or ')' | operand (cmp operand)? ;
// operand := 'response.code' | integer. A bare operand must be a comparison
// (CEL has no integer truthiness); types are checked while parsing: a
// comparison yields a bool, && || ! need bools.
class FilterParser {
 public:
  FilterParser(std::string_view text, std::vector<AccessLogFilter::Step>& out, std::string& error)
      : text_(text), out_(out), error_(error) {}

  bool run() {
    if (!parse_or()) return false;
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected '" + std::string(text_.substr(pos_, 1)) + "'");
    return true;
  }

 private:
  using Op = AccessLogFilter::Op;

  bool fail(std::string message) {
    if (error_.empty()) error_ = message + " at offset " + std::to_string(pos_);
    return false;
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }

  bool parse_or() {
    if (!parse_and()) return false;
    while (eat("||")) {
      if (!parse_and()) return false;
      out_.push_back({Op::Or});
    }
    return true;
  }
  bool parse_and() {
    if (!parse_unary()) return false;
    while (eat("&&")) {
      if (!parse_unary()) return false;
      out_.push_back({Op::And});
    }
    return true;
  }
  bool parse_unary() {
    skip_space();
    if (text_.substr(pos_, 2) != "!=" && eat("!")) {
      if (!parse_unary()) return false;
      out_.push_back({Op::Not});
      return true;
    }
    return parse_primary();
  }
  bool parse_primary() {
    if (eat("(")) {
      if (!parse_or()) return false;
      if (!eat(")")) return fail("expected ')'");
      return true;
    }
    if (!parse_operand()) return false;
    static constexpr std::pair<std::string_view, Op> kCompare[] = {
        {"==", Op::Eq}, {"!=", Op::Ne}, {"<=", Op::Le}, {">=", Op::Ge}, {"<", Op::Lt}, {">", Op::Gt}};
    for (const auto& [token, op] : kCompare) {
      if (eat(token)) {
        if (!parse_operand()) return false;
        out_.push_back({op});
        return true;
      }
    }
    return fail("expected a comparison (==, !=, <, <=, >, >=)");
  }
  bool parse_operand() {
    skip_space();
    if (eat("response.code")) {
      out_.push_back({Op::Code});
      return true;
    }
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    int64_t value = 0;
    if (pos_ > start && std::from_chars(text_.data() + start, text_.data() + pos_, value).ec == std::errc()) {
      out_.push_back({Op::Int, value});
      return true;
    }
    pos_ = start;
    size_t end = pos_;
    while (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '.' ||
                                  text_[end] == '_' || text_[end] == '"'))
      ++end;
    if (end > pos_) {
      return fail("'" + std::string(text_.substr(pos_, end - pos_)) +
                  "' is not supported (Torii's filters compare response.code with integers)");
    }
    return fail("expected response.code or an integer");
  }

  std::string_view text_;
  std::vector<AccessLogFilter::Step>& out_;
  std::string& error_;
  size_t pos_ = 0;
};

std::optional<AccessLogFilter> AccessLogFilter::parse(std::string_view expression, std::string& error) {
  AccessLogFilter filter;
  filter.expression_ = std::string(expression);
  error.clear();
  FilterParser parser(expression, filter.program_, error);
  if (!parser.run()) return std::nullopt;
  return filter;
}

bool AccessLogFilter::matches(int response_code) const {
  // The parser only produces well-typed programs: comparisons push bools
  // (0/1), && || ! take bools. A fixed stack: expressions are short.
  int64_t stack[32];
  size_t top = 0;
  for (const Step& step : program_) {
    if (top >= 32) return true;  // absurdly nested: log rather than lose the line
    switch (step.op) {
      case Op::Code:
        stack[top++] = response_code;
        break;
      case Op::Int:
        stack[top++] = step.value;
        break;
      case Op::Not:
        stack[top - 1] = stack[top - 1] == 0 ? 1 : 0;
        break;
      default: {
        const int64_t b = stack[--top];
        const int64_t a = stack[top - 1];
        int64_t r = 0;
        switch (step.op) {
          case Op::Eq:
            r = a == b;
            break;
          case Op::Ne:
            r = a != b;
            break;
          case Op::Lt:
            r = a < b;
            break;
          case Op::Le:
            r = a <= b;
            break;
          case Op::Gt:
            r = a > b;
            break;
          case Op::Ge:
            r = a >= b;
            break;
          case Op::And:
            r = a != 0 && b != 0;
            break;
          case Op::Or:
            r = a != 0 || b != 0;
            break;
          default:
            break;
        }
        stack[top - 1] = r;
      }
    }
  }
  return top == 1 && stack[0] != 0;
}

}  // namespace torii::config
