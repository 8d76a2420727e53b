#include "upstream/shared_cluster_state.h"

#include <chrono>

namespace torii::upstream {

uint64_t monotonic_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

std::shared_ptr<SharedEndpointState> SharedClusterState::endpoint(const std::string& key, uint64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = endpoints_.find(key);
  if (it != endpoints_.end()) return it->second;
  // Drop endpoints nobody holds any more (left the cluster on every worker).
  for (auto i = endpoints_.begin(); i != endpoints_.end();) {
    if (i->second.use_count() == 1) {
      outlier_.forget(*i->second);
      i = endpoints_.erase(i);
    } else {
      ++i;
    }
  }
  auto state =
      std::make_shared<SharedEndpointState>(key, now_ms, !populated_.load(std::memory_order_relaxed));
  endpoints_.emplace(key, state);
  return state;
}

void SharedClusterState::maybe_sweep(const OutlierPolicy& policy, uint64_t now_ms) {
  if (!outlier_.sweep_due(now_ms)) return;
  if (!policy.enabled && outlier_.stats().ejections_active.load(std::memory_order_relaxed) == 0) return;
  std::vector<SharedEndpointState*> all;
  std::vector<std::shared_ptr<SharedEndpointState>> keep;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.reserve(endpoints_.size());
    for (auto& [key, state] : endpoints_) {
      all.push_back(state.get());
      keep.push_back(state);
    }
  }
  outlier_.sweep(all, policy, now_ms);
}

std::vector<std::shared_ptr<SharedEndpointState>> SharedClusterState::endpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<SharedEndpointState>> out;
  for (const auto& [key, state] : endpoints_) out.push_back(state);
  return out;
}

std::shared_ptr<SharedEndpointState> SharedClusterState::find_endpoint(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = endpoints_.find(key);
  return it == endpoints_.end() ? nullptr : it->second;
}

std::shared_ptr<SharedClusterState> SharedClusterRegistry::get(const std::string& name, uint64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
  if (it != by_name_.end()) {
    if (auto live = it->second.lock()) return live;
  }
  auto state = std::make_shared<SharedClusterState>(name, now_ms);
  by_name_[name] = state;
  return state;
}

std::vector<std::shared_ptr<SharedClusterState>> SharedClusterRegistry::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<SharedClusterState>> out;
  for (auto it = by_name_.begin(); it != by_name_.end();) {
    if (auto live = it->second.lock()) {
      out.push_back(std::move(live));
      ++it;
    } else {
      it = by_name_.erase(it);
    }
  }
  return out;
}

std::shared_ptr<SharedClusterState> SharedClusterRegistry::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.lock();
}

}  // namespace torii::upstream
