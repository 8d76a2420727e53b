#include "cli/log.h"

#include <cstdio>
#include <ctime>

namespace torii::cli {

std::string utc_now_rfc3339() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
  return buf;
}

void log_info(const std::string& message) {
  std::fprintf(stderr, "%s info %s\n", utc_now_rfc3339().c_str(), message.c_str());
}

void log_error(const std::string& message) {
  std::fprintf(stderr, "%s error %s\n", utc_now_rfc3339().c_str(), message.c_str());
}

}  // namespace torii::cli
