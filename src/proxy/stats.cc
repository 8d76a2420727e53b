#include "proxy/stats.h"

namespace torii::proxy {

void WorkerStats::count_response(int status) {
  switch (status / 100) {
    case 1:
      inc(downstream_rq_1xx);
      break;
    case 2:
      inc(downstream_rq_2xx);
      break;
    case 3:
      inc(downstream_rq_3xx);
      break;
    case 4:
      inc(downstream_rq_4xx);
      break;
    default:
      inc(downstream_rq_5xx);
      break;
  }
}

std::vector<std::pair<std::string, uint64_t>> sum_stats(const std::vector<const WorkerStats*>& workers) {
  std::vector<std::pair<std::string, uint64_t>> out;
#define TORII_SUM_COUNTER(name)                                                            \
  {                                                                                        \
    uint64_t total = 0;                                                                    \
    for (const WorkerStats* w : workers) total += w->name.load(std::memory_order_relaxed); \
    out.emplace_back(#name, total);                                                        \
  }
  TORII_WORKER_COUNTERS(TORII_SUM_COUNTER)
#undef TORII_SUM_COUNTER
  return out;
}

}  // namespace torii::proxy
