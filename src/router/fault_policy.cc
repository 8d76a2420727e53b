#include "router/fault_policy.h"

namespace torii::router {

uint32_t percent_to_per_million(double percent) {
  if (!(percent > 0)) return 0;
  if (percent >= 100) return 1000000;
  return static_cast<uint32_t>(percent * 10000);
}

bool fraction_hit(uint32_t per_million, uint64_t random) { return random % 1000000 < per_million; }

}  // namespace torii::router
