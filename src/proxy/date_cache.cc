#include "proxy/date_cache.h"

namespace torii::proxy {

std::string_view DateCache::now() {
  timespec ts;
  // The coarse clock is a vDSO read with no syscall; one-second precision is all `date` needs.
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  if (ts.tv_sec != second_) {
    second_ = ts.tv_sec;
    tm parts;
    gmtime_r(&second_, &parts);
    length_ = strftime(text_, sizeof(text_), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  }
  return {text_, length_};
}

}  // namespace torii::proxy
