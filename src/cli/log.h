// Minimal timestamped logging to stderr for the control thread.
#pragma once

#include <string>

namespace torii::cli {

void log_info(const std::string& message);
void log_error(const std::string& message);
std::string utc_now_rfc3339();

}  // namespace torii::cli
