// Reason phrases for status lines (RFC 9110 names; "Unknown" otherwise).
#pragma once

#include <string_view>

namespace torii::http {

std::string_view status_reason(int status);

}  // namespace torii::http
