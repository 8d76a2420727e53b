// Header values of VirtualService header operations, which Envoy reads as
// format strings: `%VAR%` / `%VAR(args)%` is replaced per request and `%%` is
// a literal '%' (envoy source/common/router/header_parser.cc). istiod checks
// the syntax only (validateHeaderValue in header_value_validator.go).
//
// Torii does not implement the variables; it applies `%%` and says so for the
// rest (validate_virtual_service.cc warns, compile leaves such an operation out).
#pragma once

#include <string>
#include <string_view>

namespace torii::config {

// "" when `value` is a well-formed format string, else istiod's message
// ("invalid header configuration. Un-escaped %", ...).
std::string check_header_value_format(std::string_view value);

// Whether a well-formed `value` holds a %VAR% expression (not just `%%`).
bool has_header_variables(std::string_view value);

// `value` with each `%%` turned into '%' (for values without variables).
std::string unescape_header_value(std::string_view value);

}  // namespace torii::config
