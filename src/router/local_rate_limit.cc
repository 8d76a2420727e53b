#include "router/local_rate_limit.h"

namespace torii::router {

std::shared_ptr<TokenBucket> LocalRateLimitRegistry::bucket(const std::string& key, uint64_t max_tokens,
                                                            uint64_t tokens_per_fill,
                                                            int64_t fill_interval_ns) {
  std::lock_guard lock(mutex_);
  // Drop entries no snapshot holds any more (compile time only, not per request).
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = it->second.expired() ? buckets_.erase(it) : std::next(it);
  }
  std::weak_ptr<TokenBucket>& slot = buckets_[key];
  if (std::shared_ptr<TokenBucket> existing = slot.lock()) return existing;
  auto created = std::make_shared<TokenBucket>(max_tokens, tokens_per_fill, fill_interval_ns);
  slot = created;
  return created;
}

std::shared_ptr<DynamicBuckets> LocalRateLimitRegistry::dynamic(const std::string& key, uint64_t max_tokens,
                                                                uint64_t tokens_per_fill,
                                                                int64_t fill_interval_ns, uint32_t max_size) {
  std::lock_guard lock(mutex_);
  for (auto it = dynamic_.begin(); it != dynamic_.end();) {
    it = it->second.expired() ? dynamic_.erase(it) : std::next(it);
  }
  std::weak_ptr<DynamicBuckets>& slot = dynamic_[key];
  if (std::shared_ptr<DynamicBuckets> existing = slot.lock()) return existing;
  auto created = std::make_shared<DynamicBuckets>(max_tokens, tokens_per_fill, fill_interval_ns, max_size);
  slot = created;
  return created;
}

LocalRateLimitCounters& LocalRateLimitRegistry::counters(const std::string& stat_prefix) {
  std::lock_guard lock(mutex_);
  std::unique_ptr<LocalRateLimitCounters>& slot = counters_[stat_prefix];
  if (!slot) slot = std::make_unique<LocalRateLimitCounters>();
  return *slot;
}

std::vector<std::pair<std::string, uint64_t>> LocalRateLimitRegistry::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [prefix, c] : counters_) {
    const std::string base = prefix + ".http_local_rate_limit.";
    out.emplace_back(base + "enabled", c->enabled.load(std::memory_order_relaxed));
    out.emplace_back(base + "enforced", c->enforced.load(std::memory_order_relaxed));
    out.emplace_back(base + "ok", c->ok.load(std::memory_order_relaxed));
    out.emplace_back(base + "rate_limited", c->rate_limited.load(std::memory_order_relaxed));
  }
  return out;
}

LocalRateLimitRegistry& rate_limit_registry() {
  static LocalRateLimitRegistry* registry =
      new LocalRateLimitRegistry();  // never destroyed: workers may outlive main
  return *registry;
}

}  // namespace torii::router
