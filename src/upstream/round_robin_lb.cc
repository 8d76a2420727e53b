#include "upstream/round_robin_lb.h"

namespace torii::upstream {

size_t RoundRobinLoadBalancer::pick(const EndpointSet& endpoints, FastRandom& random) {
  const size_t n = endpoints.size();
  if (generation_ != endpoints.generation || current_.size() != n) {
    generation_ = endpoints.generation;
    cursor_ = random.below(n);
    current_.assign(n, 0);
  }
  if (endpoints.cumulative_weights.empty()) return endpoints.candidates[cursor_++ % n];
  int64_t total = 0;
  size_t best = 0;
  for (size_t k = 0; k < n; ++k) {
    int64_t w = static_cast<int64_t>(endpoints.weights[k]);
    current_[k] += w;
    total += w;
    if (current_[k] > current_[best]) best = k;
  }
  current_[best] -= total;
  return endpoints.candidates[best];
}

}  // namespace torii::upstream
