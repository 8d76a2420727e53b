#include "dns/name_cache.h"

#include <algorithm>

namespace torii::dns {

struct NameCache::Entry {
  Entry(net::EventLoop& loop, std::function<void()> fire) : timer(loop, std::move(fire)) {}
  NameState state;
  net::Timer timer;
  // Identifies this entry across set_names() calls: an answer for a name
  // that was removed (and maybe added again) is dropped.
  uint64_t generation = 0;
  bool in_flight = false;
};

NameCache::NameCache(net::EventLoop& loop, Resolver& resolver, RefreshPolicy policy, OnChange on_change)
    : loop_(loop), resolver_(resolver), policy_(policy), on_change_(std::move(on_change)) {}

NameCache::~NameCache() = default;

void NameCache::set_names(const std::set<std::string>& names) {
  bool removed = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (names.count(it->first) == 0) {
      it = entries_.erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  for (const auto& name : names) {
    if (entries_.count(name) != 0) continue;
    auto entry = std::make_unique<Entry>(loop_, [this, name] { start_lookup(name); });
    entry->generation = next_generation_++;
    entries_.emplace(name, std::move(entry));
    start_lookup(name);
  }
  if (removed) publish();
}

std::shared_ptr<const ResolvedNames> NameCache::current() const {
  std::lock_guard<std::mutex> lock(published_mutex_);
  return published_;
}

void NameCache::start_lookup(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second->in_flight) return;
  Entry& entry = *it->second;
  entry.in_flight = true;
  const uint64_t generation = entry.generation;
  resolver_.resolve(name, [this, name, generation](const Resolution& r) { on_answer(name, generation, r); });
}

void NameCache::on_answer(const std::string& name, uint64_t generation, const Resolution& r) {
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second->generation != generation) return;
  Entry& entry = *it->second;
  NameState& s = entry.state;
  entry.in_flight = false;
  loop_.update_time();
  const uint64_t now = loop_.now_ms();
  const NameState before = s;

  s.resolved_once = true;
  s.last_status = r.status;
  s.last_error = r.error;
  uint64_t delay;
  if (r.status == Resolution::Status::kOk) {
    s.addresses = r.addresses;
    s.stale = false;
    s.ttl_s = r.ttl_s;
    s.consecutive_failures = 0;
    s.last_success_ms = now;
    delay = r.ttl_s == 0 ? policy_.default_refresh_ms
                         : std::max<uint64_t>(uint64_t{r.ttl_s} * 1000, policy_.min_refresh_ms);
  } else {
    ++s.consecutive_failures;
    const uint32_t shift = std::min<uint32_t>(s.consecutive_failures - 1, 16);
    delay = std::min<uint64_t>(uint64_t{policy_.failure_backoff_base_ms} << shift,
                               policy_.failure_backoff_max_ms);
    if (!s.addresses.empty()) {
      // Keep the last good answer until the grace period, counted from the
      // last success, runs out; then drop it.
      if (now - s.last_success_ms >= policy_.grace_ms) {
        s.addresses.clear();
        s.stale = false;
      } else {
        s.stale = true;
        delay = std::min<uint64_t>(delay, s.last_success_ms + policy_.grace_ms - now);
      }
    }
  }
  s.next_refresh_ms = now + delay;
  entry.timer.arm(delay);

  const bool changed = before.addresses != s.addresses || before.stale != s.stale ||
                       before.resolved_once != s.resolved_once || before.last_status != s.last_status;
  if (changed) {
    publish();
  } else {
    // Timestamps and counters still change; keep current() exact without waking consumers.
    std::lock_guard<std::mutex> lock(published_mutex_);
    auto copy = std::make_shared<ResolvedNames>(*published_);
    (*copy)[name] = s;
    published_ = std::move(copy);
  }
}

void NameCache::publish() {
  auto names = std::make_shared<ResolvedNames>();
  for (const auto& [name, entry] : entries_) names->emplace(name, entry->state);
  {
    std::lock_guard<std::mutex> lock(published_mutex_);
    published_ = std::move(names);
  }
  if (on_change_) on_change_();
}

}  // namespace torii::dns
