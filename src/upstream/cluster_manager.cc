#include "upstream/cluster_manager.h"

#include <unordered_set>

namespace torii::upstream {

ClusterManager::ClusterManager(net::EventLoop& loop, uint32_t idle_timeout_ms, uint64_t random_seed,
                               ConnectionPool::Counters counters, SharedClusterRegistry* registry)
    : own_registry_(registry == nullptr ? std::make_unique<SharedClusterRegistry>() : nullptr),
      registry_(registry != nullptr ? registry : own_registry_.get()),
      pool_(loop, idle_timeout_ms, counters),
      random_(random_seed) {}

ClusterManager::~ClusterManager() {
  // Idle connections (and those being opened: no request waits any more)
  // first: their destructors report to the pool and their endpoint states,
  // which must still exist.
  for (auto& [name, state] : by_name_) state->close_all_idle(pool_);
  pool_.loop().flush_deferred_deletes();
}

void ClusterManager::on_snapshot(const std::vector<std::shared_ptr<const ClusterInfo>>& clusters,
                                 size_t slots) {
  // Every bound pointer may refer to a snapshot that is about to be freed
  // (and whose memory a later snapshot may reuse): forget them all first.
  for (auto& [name, state] : by_name_) state->unbind();
  by_index_.assign(slots, Slot{});
  // Only clusters this worker has used get state (cluster() creates it on
  // first use): with 10,000 clusters, eager state was ~3 KiB per cluster
  // per worker, for clusters most workers never send a request to.
  std::unordered_set<const ClusterState*> current;
  for (const auto& info : clusters) {
    if (info->index >= by_index_.size()) continue;
    Slot& slot = by_index_[info->index];
    slot.info = info.get();
    auto it = by_name_.find(info->name);
    if (it == by_name_.end()) continue;
    // New TLS origination settings: idle connections made with the old ones
    // must not carry the next request. (Binding only adds endpoint states,
    // which have no idle connections yet, so closing after it is the same.)
    const uint64_t old_tls = it->second->tls_fingerprint();
    it->second->bind(*info);
    if (it->second->tls_fingerprint() != old_tls) it->second->close_all_idle(pool_);
    slot.state = it->second.get();
    current.insert(slot.state);
  }
  for (auto it = by_name_.begin(); it != by_name_.end();) {
    ClusterState& state = *it->second;
    bool present = current.count(&state) != 0;
    if (!present) state.close_all_idle(pool_);
    state.collect_garbage(pool_);
    if (!present && state.unused()) {
      it = by_name_.erase(it);
    } else {
      ++it;
    }
  }
}

ClusterState& ClusterManager::cluster(const ClusterInfo& info) {
  Slot* slot =
      info.index < by_index_.size() && by_index_[info.index].info == &info ? &by_index_[info.index] : nullptr;
  if (slot != nullptr && slot->state != nullptr && slot->state->bound_to(&info)) return *slot->state;
  auto it = by_name_.find(std::string_view(info.name));
  if (it == by_name_.end()) {
    auto state = std::make_unique<ClusterState>(info.name, registry_->get(info.name, monotonic_ms()));
    it = by_name_.emplace(info.name, std::move(state)).first;
  }
  // A request on an older snapshot finds the state by name; only the
  // current snapshot's clusters are cached by index.
  if (slot != nullptr) slot->state = it->second.get();
  return *it->second;  // endpoints() rebinds to `info` on use
}

}  // namespace torii::upstream
