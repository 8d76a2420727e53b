#include "upstream/least_request_lb.h"

#include <algorithm>

namespace torii::upstream {

size_t EndpointSet::draw(FastRandom& random) const {
  if (cumulative_weights.empty()) return static_cast<size_t>(random.below(candidates.size()));
  uint64_t point = random.below(cumulative_weights.back());
  auto it = std::upper_bound(cumulative_weights.begin(), cumulative_weights.end(), point);
  return static_cast<size_t>(it - cumulative_weights.begin());
}

size_t LeastRequestLoadBalancer::pick(const EndpointSet& endpoints, FastRandom& random) {
  if (endpoints.size() == 1) return endpoints.candidates[0];
  size_t a = endpoints.draw(random);
  size_t b;
  if (endpoints.cumulative_weights.empty()) {
    // Equal weights: the second choice is uniform over the *other* candidates.
    b = (a + 1 + static_cast<size_t>(random.below(endpoints.size() - 1))) % endpoints.size();
  } else {
    // Weighted: redraw a couple of times to get two distinct candidates.
    b = endpoints.draw(random);
    for (int i = 0; i < 2 && b == a; ++i) b = endpoints.draw(random);
    if (a == b) return endpoints.candidates[a];
  }
  uint32_t ea = endpoints.candidates[a];
  uint32_t eb = endpoints.candidates[b];
  // Compare active / weight without division. Idle endpoints tie, and a tie
  // keeps the first (weight-proportional) draw.
  uint64_t wa = endpoints.weights.empty() ? 1 : std::max<uint64_t>(1, endpoints.weights[a]);
  uint64_t wb = endpoints.weights.empty() ? 1 : std::max<uint64_t>(1, endpoints.weights[b]);
  uint64_t load_a = static_cast<uint64_t>(endpoints.states[ea]->active_requests) * wb;
  uint64_t load_b = static_cast<uint64_t>(endpoints.states[eb]->active_requests) * wa;
  return load_b < load_a ? eb : ea;
}

}  // namespace torii::upstream
