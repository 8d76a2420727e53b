// The IMF-fixdate for the `date` header, formatted at most once per second
// per worker (Envoy's TlsCachingDateProvider does the same).
#pragma once

#include <ctime>
#include <string_view>

namespace torii::proxy {

class DateCache {
 public:
  // "Sun, 06 Nov 1994 08:49:37 GMT" for the current second.
  std::string_view now();

 private:
  time_t second_ = -1;
  char text_[40] = {0};
  size_t length_ = 0;
};

}  // namespace torii::proxy
