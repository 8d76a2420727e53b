#include "upstream/hash_lb.h"

#include "upstream/consistent_hash.h"
#include "upstream/least_request_lb.h"
#include "upstream/random_lb.h"
#include "upstream/round_robin_lb.h"

namespace torii::upstream {

size_t HashLoadBalancer::pick(const EndpointSet& endpoints, FastRandom& random) {
  if (endpoints.hash && endpoints.info != nullptr && endpoints.info->hash_table) {
    size_t chosen = endpoints.info->hash_table->lookup(*endpoints.hash, endpoints.usable);
    if (chosen < endpoints.states.size()) return chosen;
  }
  return endpoints.candidates[endpoints.draw(random)];
}

std::unique_ptr<LoadBalancer> make_load_balancer(LbPolicy policy) {
  switch (policy) {
    case LbPolicy::RoundRobin:
      return std::make_unique<RoundRobinLoadBalancer>();
    case LbPolicy::Random:
    case LbPolicy::Passthrough:
      return std::make_unique<RandomLoadBalancer>();
    case LbPolicy::RingHash:
    case LbPolicy::Maglev:
      return std::make_unique<HashLoadBalancer>();
    case LbPolicy::LeastRequest:
      break;
  }
  return std::make_unique<LeastRequestLoadBalancer>();
}

std::unique_ptr<LoadBalancer> make_default_load_balancer() {
  return make_load_balancer(LbPolicy::LeastRequest);
}

const char* lb_policy_name(LbPolicy policy) {
  switch (policy) {
    case LbPolicy::LeastRequest:
      return "LEAST_REQUEST";
    case LbPolicy::RoundRobin:
      return "ROUND_ROBIN";
    case LbPolicy::Random:
      return "RANDOM";
    case LbPolicy::Passthrough:
      return "PASSTHROUGH";
    case LbPolicy::RingHash:
      return "RING_HASH";
    case LbPolicy::Maglev:
      return "MAGLEV";
  }
  return "?";
}

}  // namespace torii::upstream
