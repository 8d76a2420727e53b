// Per-worker DNS cache for routes whose endpoints are resolved per request
// (router::WeightedCluster::dynamic_host: PassthroughCluster, ServiceEntry
// resolution NONE and wildcard hosts on forward-proxy listeners) -- Envoy's
// dynamic forward proxy DNS cache, one per worker so nothing is shared.
//
// lookup() gives a ClusterInfo that is the compiled cluster (name, port,
// traffic policy: circuit breakers, outlier detection, load balancing) with
// the name's current addresses as endpoints, so every other part of the data
// path treats it as any cluster. Answers are kept for the record's TTL (at
// least min_ttl_ms; default_ttl_ms when the answer had none); failures are
// not cached. At most max_hosts entries: beyond that the oldest goes.
//
// A cluster's per-worker state (upstream::ClusterState, by name) binds to
// the ClusterInfo last used; such a ClusterInfo is unbound from it before it
// is freed, so a later one at the same address is never mistaken for it.
//
// Owned by the Worker; loop thread only. The c-ares resolver is created on
// first use.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/resolver.h"
#include "net/event_loop.h"
#include "upstream/cluster_info.h"
#include "upstream/cluster_manager.h"

namespace torii::proxy {

struct DynamicHostOptions {
  dns::ResolverOptions resolver;
  uint32_t min_ttl_ms = 1000;
  uint32_t default_ttl_ms = 60 * 1000;
  uint32_t max_hosts = 1024;  // Envoy's dns_cache_config max_hosts default
};

class DynamicHostCache {
 public:
  // cluster == null: the name did not resolve; `error` says why.
  using Callback =
      std::function<void(std::shared_ptr<const upstream::ClusterInfo> cluster, std::string_view error)>;

  DynamicHostCache(net::EventLoop& loop, upstream::ClusterManager& clusters, DynamicHostOptions options);
  ~DynamicHostCache();
  DynamicHostCache(const DynamicHostCache&) = delete;
  DynamicHostCache& operator=(const DynamicHostCache&) = delete;

  // `compiled` must stay alive until the callback ran (the caller's snapshot
  // keeps it). The callback runs later on the loop, never inside lookup(),
  // unless the answer is cached, or the cache holds max_hosts names all still
  // resolving (a failure): then it runs at once. Drop `alive` to
  // cancel: a callback whose token expired is not called.
  // `snapshot_version` is the version of the snapshot holding `compiled`:
  // with its address it names that compiled cluster uniquely (an address
  // alone may be reused by a later snapshot's cluster).
  void lookup(const upstream::ClusterInfo& compiled, uint64_t snapshot_version, std::string_view host,
              uint32_t port, std::weak_ptr<void> alive, Callback callback);

  size_t size() const { return entries_.size(); }

 private:
  struct Waiter {
    std::weak_ptr<void> alive;
    // Valid while `alive` is: the caller's snapshot holds it.
    const upstream::ClusterInfo* compiled = nullptr;
    uint64_t snapshot_version = 0;
    Callback callback;
  };
  struct Entry {
    std::string host;
    uint32_t port = 0;
    std::vector<std::string> addresses;  // the last good answer; empty: none yet
    uint64_t expires_ms = 0;
    // The last ClusterInfo built from `addresses`, and the compiled cluster
    // it copies (compared, never dereferenced: it may be gone).
    std::shared_ptr<const upstream::ClusterInfo> cluster;
    const upstream::ClusterInfo* compiled = nullptr;
    uint64_t snapshot_version = 0;
    bool resolving = false;
    std::vector<Waiter> waiters;
  };

  void on_answer(const std::string& key, const dns::Resolution& resolution);
  // The entry's ClusterInfo for `compiled` (alive now), built if needed.
  const std::shared_ptr<const upstream::ClusterInfo>& cluster_for(Entry& entry,
                                                                  const upstream::ClusterInfo& compiled,
                                                                  uint64_t snapshot_version);
  std::shared_ptr<const upstream::ClusterInfo> build(const Entry& entry,
                                                     const upstream::ClusterInfo& compiled);
  // Drops the oldest entry not being resolved; false if there is none.
  bool evict_one();

  net::EventLoop& loop_;
  upstream::ClusterManager& clusters_;
  DynamicHostOptions options_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::unordered_map<std::string, Entry> entries_;  // "<cluster name>|<host>:<port>"
  std::list<std::string> order_;                    // insertion order, for eviction
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace torii::proxy
