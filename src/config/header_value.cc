#include "config/header_value.h"

namespace torii::config {

// A port of istiod's validateHeaderValue (itself a port of Envoy's
// HeaderParser::parseInternal), state for state, messages included.
std::string check_header_value_format(std::string_view value) {
  enum class State {
    Literal,                    // literal data
    VariableName,               // a %VAR% name
    ExpectArray,                // the [ of %VAR([...])%
    ExpectString,               // the " of an array element
    String,                     // inside an array element
    ExpectArrayDelimiterOrEnd,  // , or ]
    ExpectArgsEnd,              // the ) of %VAR(...)%
    ExpectVariableEnd,          // the closing %
  };
  State state = State::Literal;
  for (size_t pos = 0; pos < value.size(); ++pos) {
    const char ch = value[pos];
    const bool has_next = pos + 1 < value.size();
    switch (state) {
      case State::Literal:
        if (ch != '%') break;
        if (!has_next) return "invalid header configuration. Un-escaped %";
        if (value[pos + 1] == '%') {
          ++pos;  // an escaped %
          break;
        }
        state = State::VariableName;
        break;
      case State::VariableName:
        if (ch == '%') {
          state = State::Literal;
        } else if (ch == '(') {
          state = State::ExpectArray;
        }
        break;
      case State::ExpectArray:
        if (ch == '[') {
          state = State::ExpectString;
        } else if (ch != ' ') {
          state = State::String;  // a bare argument
        }
        break;
      case State::ExpectArrayDelimiterOrEnd:
        if (ch == ',') {
          state = State::ExpectString;
        } else if (ch == ']') {
          state = State::ExpectArgsEnd;
        } else if (ch != ' ') {
          return "invalid header configuration. Expecting ',', ']', or whitespace";
        }
        break;
      case State::ExpectString:
        if (ch == '"') {
          state = State::String;
        } else if (ch != ' ') {
          return "invalid header configuration. Expecting '\"'";
        }
        break;
      case State::String:
        if (ch == '\\') {
          if (!has_next) return "invalid header configuration. Un-terminated backslash in JSON string";
          ++pos;
        } else if (ch == ')') {
          state = State::ExpectVariableEnd;
        } else if (ch == '"') {
          state = State::ExpectArrayDelimiterOrEnd;
        }
        break;
      case State::ExpectArgsEnd:
        if (ch == ')') {
          state = State::ExpectVariableEnd;
        } else if (ch != ' ') {
          return "invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'";
        }
        break;
      case State::ExpectVariableEnd:
        if (ch == '%') {
          state = State::Literal;
        } else if (ch != ' ') {
          return "invalid header configuration. Expecting '%' or whitespace after";
        }
        break;
    }
  }
  if (state != State::Literal) {
    return "invalid header configuration. Un-terminated variable expression '" + std::string(value) + "'";
  }
  return "";
}

bool has_header_variables(std::string_view value) {
  for (size_t pos = 0; pos < value.size(); ++pos) {
    if (value[pos] != '%') continue;
    if (pos + 1 < value.size() && value[pos + 1] == '%') {
      ++pos;
      continue;
    }
    return true;
  }
  return false;
}

std::string unescape_header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t pos = 0; pos < value.size(); ++pos) {
    out.push_back(value[pos]);
    if (value[pos] == '%' && pos + 1 < value.size() && value[pos + 1] == '%') ++pos;
  }
  return out;
}

}  // namespace torii::config
