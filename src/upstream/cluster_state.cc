#include "upstream/cluster_state.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "upstream/connection_pool.h"

namespace torii::upstream {

namespace {
constexpr uint64_t kWarmupRefreshMs = 100;
constexpr uint64_t kWeightScale = 1000;      // room for the slow-start fraction in integer weights
constexpr uint64_t kOverprovisioning = 140;  // Envoy's default overprovisioning factor, percent
}  // namespace

ClusterState::ClusterState(std::string name, std::shared_ptr<SharedClusterState> shared)
    : name_(std::move(name)),
      shared_(shared ? std::move(shared) : std::make_shared<SharedClusterState>(name_, monotonic_ms())),
      load_balancer_(make_default_load_balancer()) {}

ClusterState::~ClusterState() = default;

EndpointSet ClusterState::endpoints(const ClusterInfo& info, uint64_t now_ms) {
  if (now_ms == 0) now_ms = monotonic_ms();
  if (bound_info_ != &info) bind(info, now_ms);
  if (seen_epoch_ != shared_->outlier_detector().epoch() || now_ms >= next_warmup_refresh_ms_)
    refresh(info, now_ms);
  if (levels_.empty()) {
    EndpointSet empty;
    empty.info = &info;
    empty.states = bound_;
    return empty;
  }
  return view(info, levels_.front());
}

ClusterState::Choice ClusterState::choose(const ClusterInfo& info, std::optional<uint64_t> hash,
                                          FastRandom& random, uint64_t now_ms) {
  if (bound_info_ != &info) bind(info, now_ms);
  shared_->maybe_sweep(info.policy->outlier, now_ms);
  if (seen_epoch_ != shared_->outlier_detector().epoch() || now_ms >= next_warmup_refresh_ms_)
    refresh(info, now_ms);
  Choice choice;
  if (levels_.empty()) return choice;
  const Level* level = &levels_.front();
  if (levels_.size() > 1) {
    uint64_t point = random.below(100);
    uint64_t acc = 0;
    for (const Level& l : levels_) {
      acc += l.load;
      level = &l;
      if (point < acc) break;
    }
  }
  EndpointSet set = view(info, *level);
  set.hash = hash;
  choice.status = Choice::Status::Ok;
  choice.index = load_balancer_->pick(set, random);
  choice.panic = panic_;
  return choice;
}

std::optional<size_t> ClusterState::untried(const std::vector<size_t>& avoid, FastRandom& random) const {
  for (const Level& level : levels_) {
    const size_t n = level.candidates.size();
    if (n == 0) continue;
    const size_t start = static_cast<size_t>(random.below(n));
    for (size_t k = 0; k < n; ++k) {
      const size_t index = level.candidates[(start + k) % n];
      if (std::find(avoid.begin(), avoid.end(), index) == avoid.end()) return index;
    }
  }
  return std::nullopt;
}

EndpointSet ClusterState::view(const ClusterInfo& info, const Level& level) const {
  EndpointSet set;
  set.info = &info;
  set.states = bound_;
  set.candidates = level.candidates;
  set.weights = level.weights;
  set.cumulative_weights = level.cumulative;
  set.usable = level.usable;
  set.generation = generation_;
  return set;
}

void ClusterState::bind(const ClusterInfo& info, uint64_t now_ms) {
  if (now_ms == 0) now_ms = monotonic_ms();
  bound_info_ = &info;
  tls_fingerprint_ = info.policy->tls.enabled ? info.policy->tls.fingerprint : 0;
  bound_.clear();
  for (const Endpoint& e : info.endpoints) {
    std::string key = endpoint_key(e.address, e.port);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      auto state = std::make_unique<EndpointState>();
      state->key = key;
      state->shared = shared_->endpoint(key, now_ms);
      state->cluster = shared_.get();
      it = by_key_.emplace(std::move(key), std::move(state)).first;
    }
    bound_.push_back(it->second.get());
  }
  shared_->mark_populated();
  if (!load_balancer_ || lb_policy_ != info.policy->lb) {
    load_balancer_ = make_load_balancer(info.policy->lb);
    lb_policy_ = info.policy->lb;
  }
  refresh(info, now_ms);
}

void ClusterState::build_level(Level& level, const ClusterInfo& info, const std::vector<uint32_t>& members,
                               uint64_t now_ms) {
  const WarmupPolicy& warmup = info.policy->warmup;
  level.candidates = members;
  level.usable.assign(info.endpoints.size(), 0);
  level.weights.clear();
  level.cumulative.clear();
  bool equal = true;
  uint64_t total = 0;
  for (uint32_t i : members) {
    level.usable[i] = 1;
    double w = static_cast<double>(std::max<uint32_t>(1, info.endpoints[i].lb_weight) * kWeightScale);
    const SharedEndpointState& shared = *bound_[i]->shared;
    if (warmup.duration_ms != 0 && !shared.initial && now_ms < shared.added_ms + warmup.duration_ms) {
      // Envoy slow start: weight x max(minimumPercent, (age/window)^(1/aggression)).
      double t = static_cast<double>(now_ms - shared.added_ms) / static_cast<double>(warmup.duration_ms);
      double factor = std::max(warmup.minimum_percent / 100.0, std::pow(t, 1.0 / warmup.aggression));
      w *= std::clamp(factor, 0.0, 1.0);
      next_warmup_refresh_ms_ = std::min(next_warmup_refresh_ms_, now_ms + kWarmupRefreshMs);
    }
    uint64_t weight = std::max<uint64_t>(1, static_cast<uint64_t>(w));
    if (!level.weights.empty() && weight != level.weights.front()) equal = false;
    level.weights.push_back(weight);
    total += weight;
    level.cumulative.push_back(total);
  }
  if (equal) level.cumulative.clear();
}

void ClusterState::refresh(const ClusterInfo& info, uint64_t now_ms) {
  ++generation_;
  seen_epoch_ = shared_->outlier_detector().epoch();
  next_warmup_refresh_ms_ = UINT64_MAX;
  levels_.clear();
  panic_ = false;
  const size_t n = info.endpoints.size();
  if (n == 0 || bound_.size() != n) return;

  uint32_t max_priority = 0;
  for (const Endpoint& e : info.endpoints) max_priority = std::max(max_priority, e.priority);
  std::vector<std::vector<uint32_t>> all(max_priority + 1), healthy(max_priority + 1);
  size_t healthy_total = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t p = info.endpoints[i].priority;
    all[p].push_back(i);
    if (!bound_[i]->shared->ejected.load(std::memory_order_relaxed)) {
      healthy[p].push_back(i);
      ++healthy_total;
    }
  }
  // Panic: too few healthy endpoints => ignore health (Envoy's healthy panic
  // threshold). Threshold 0 (Istio's default with outlier detection) never panics.
  const uint64_t threshold = info.policy->healthy_panic_threshold;
  if (threshold > 0 && healthy_total * 100 < threshold * n) {
    panic_ = true;
    std::vector<uint32_t> everyone(n);
    for (uint32_t i = 0; i < n; ++i) everyone[i] = i;
    Level level;
    build_level(level, info, everyone, now_ms);
    level.load = 100;
    levels_.push_back(std::move(level));
    return;
  }
  // Envoy priority load: each level takes as much as its (overprovisioned)
  // health allows; if the levels together are under 100%, scale up.
  std::vector<uint64_t> health(all.size(), 0);
  uint64_t health_sum = 0;
  for (size_t p = 0; p < all.size(); ++p) {
    if (all[p].empty()) continue;
    health[p] = std::min<uint64_t>(100, kOverprovisioning * healthy[p].size() / all[p].size());
    health_sum += health[p];
  }
  if (health_sum == 0) return;  // nothing healthy: no healthy upstream
  std::vector<uint64_t> load(all.size(), 0);
  if (health_sum >= 100) {
    uint64_t remaining = 100;
    for (size_t p = 0; p < all.size(); ++p) {
      load[p] = std::min(health[p], remaining);
      remaining -= load[p];
    }
  } else {
    uint64_t assigned = 0;
    for (size_t p = 0; p < all.size(); ++p) {
      load[p] = health[p] * 100 / health_sum;
      assigned += load[p];
    }
    for (size_t p = 0; p < all.size() && assigned < 100; ++p) {
      if (health[p] != 0) {
        load[p] += 100 - assigned;
        assigned = 100;
      }
    }
  }
  for (size_t p = 0; p < all.size(); ++p) {
    if (load[p] == 0 || healthy[p].empty()) continue;
    Level level;
    build_level(level, info, healthy[p], now_ms);
    level.load = static_cast<uint32_t>(load[p]);
    levels_.push_back(std::move(level));
  }
}

void ClusterState::unbind() {
  bound_info_ = nullptr;
  bound_.clear();
  levels_.clear();
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
