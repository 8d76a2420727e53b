// Keeps a set of host names resolved, each refreshed on its own schedule:
// at the record's TTL (Envoy's respect_dns_ttl, which Istio sets), with a
// floor, or at the default refresh rate when the answer carried no TTL
// (Istio's meshConfig.dnsRefreshRate, 60 s). A failed lookup is retried with
// exponential back-off, and a name that stops resolving keeps its last good
// addresses for a grace period before it is dropped (Envoy keeps them with no
// limit; a bounded grace is the user's safer choice and is a setting).
//
// Loop thread only. Consumers on other threads read current(), an immutable
// copy published under a mutex whenever something changed, after which
// on_change is called (on the loop thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dns/resolver.h"
#include "net/event_loop.h"
#include "net/timer.h"

namespace torii::dns {

struct RefreshPolicy {
  uint32_t default_refresh_ms = 60 * 1000;  // Istio meshConfig.dnsRefreshRate
  uint32_t min_refresh_ms = 1000;           // floor under a record's TTL
  uint32_t failure_backoff_base_ms = 1000;  // first retry after a failure, doubling
  uint32_t failure_backoff_max_ms = 30 * 1000;
  uint32_t grace_ms = 5 * 60 * 1000;  // last good addresses kept this long
};

struct NameState {
  std::vector<std::string> addresses;  // what endpoints use: the last good answer
  bool resolved_once = false;          // false until the first answer (or failure)
  bool stale = false;                  // addresses are kept from an earlier answer
  Resolution::Status last_status = Resolution::Status::kFailed;
  std::string last_error;
  uint32_t ttl_s = 0;
  uint32_t consecutive_failures = 0;
  uint64_t last_success_ms = 0;  // loop clock; 0 = never
  uint64_t next_refresh_ms = 0;
};

using ResolvedNames = std::map<std::string, NameState>;

class NameCache {
 public:
  using OnChange = std::function<void()>;

  NameCache(net::EventLoop& loop, Resolver& resolver, RefreshPolicy policy, OnChange on_change);
  ~NameCache();
  NameCache(const NameCache&) = delete;
  NameCache& operator=(const NameCache&) = delete;

  // New names are resolved at once; names no longer listed are forgotten.
  void set_names(const std::set<std::string>& names);

  // Thread-safe.
  std::shared_ptr<const ResolvedNames> current() const;

 private:
  struct Entry;

  void start_lookup(const std::string& name);
  void on_answer(const std::string& name, uint64_t generation, const Resolution& r);
  void publish();

  net::EventLoop& loop_;
  Resolver& resolver_;
  RefreshPolicy policy_;
  OnChange on_change_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  uint64_t next_generation_ = 1;

  mutable std::mutex published_mutex_;
  std::shared_ptr<const ResolvedNames> published_ = std::make_shared<ResolvedNames>();
};

}  // namespace torii::dns
