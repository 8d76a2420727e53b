#include "upstream/cluster_state.h"

#include <unordered_set>

#include "upstream/connection_pool.h"

namespace torii::upstream {

ClusterState::ClusterState(std::string name)
    : name_(std::move(name)), load_balancer_(make_default_load_balancer()) {}

ClusterState::~ClusterState() = default;

EndpointSet ClusterState::endpoints(const ClusterInfo& info) {
  if (bound_info_ != &info) bind(info);
  return EndpointSet{&info, bound_, cumulative_weights_};
}

void ClusterState::bind(const ClusterInfo& info) {
  bound_info_ = &info;
  bound_.clear();
  cumulative_weights_.clear();
  bool equal = true;
  uint64_t total = 0;
  for (const Endpoint& e : info.endpoints) {
    std::string key = endpoint_key(e.address, e.port);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      auto state = std::make_unique<EndpointState>();
      state->key = key;
      it = by_key_.emplace(std::move(key), std::move(state)).first;
    }
    bound_.push_back(it->second.get());
    if (e.weight != info.endpoints.front().weight) equal = false;
    total += e.weight == 0 ? 1 : e.weight;
    cumulative_weights_.push_back(total);
  }
  if (equal) cumulative_weights_.clear();
}

void ClusterState::unbind() {
  bound_info_ = nullptr;
  bound_.clear();
  cumulative_weights_.clear();
}

void ClusterState::collect_garbage(ConnectionPool& pool) {
  std::unordered_set<const EndpointState*> bound(bound_.begin(), bound_.end());
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    EndpointState* state = it->second.get();
    bool in_use = bound.count(state) != 0;
    if (!in_use) pool.close_idle(*state);
    // Idle connections closed above are deleted at the end of the loop
    // iteration, so `open_connections` still counts them: the state goes on
    // a later pass.
    if (!in_use && state->unused()) {
      it = by_key_.erase(it);
    } else {
      ++it;
    }
  }
}

void ClusterState::close_all_idle(ConnectionPool& pool) {
  for (auto& [key, state] : by_key_) pool.close_idle(*state);
}

bool ClusterState::unused() const {
  for (const auto& [key, state] : by_key_) {
    if (!state->unused()) return false;
  }
  return true;
}

}  // namespace torii::upstream
