// Per-route and per-cluster request counts and latency histograms of one
// worker, for the admin dashboard (docs/dashboard.md): requests by response
// class, requests that got no response, and the stream's duration.
//
// Envoy keeps no per-route stats (only per virtual cluster) and Istio's
// metrics are per destination service, not per route or cluster; these
// series answer "which route / cluster is slow or failing" directly, and
// are kept with --no-istio-metrics too.
//
// Threads and cost, as RequestMetrics: the owning worker records; the admin
// thread merges all workers' series on read (for_each_*). A route or cluster
// seen before costs a pointer compare (the last one recorded) or a hash
// lookup by address, then relaxed single-writer increments: no lock, no
// allocation. Its first request on a worker (per snapshot, for the address
// cache) looks it up by name; a name seen for the first time allocates its
// series once, under the mutex readers hold. Series are never removed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "telemetry/histogram.h"

namespace torii::telemetry {

// One route's or one cluster's counts on one worker.
struct TrafficSeries {
  std::string name;  // route: "<listener> <Route::stats_key>"; cluster: its name
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, 5> by_class{};  // 1xx..5xx
  std::atomic<uint64_t> no_response{0};             // reset or ended before a response
  Histogram duration_ms;
};

// The sum of every worker's series of one name.
struct TrafficTotals {
  uint64_t requests = 0;
  std::array<uint64_t, 5> by_class{};
  uint64_t no_response = 0;
  HistogramSnapshot duration_ms;
  // 5xx and no response: what the dashboard counts as errors.
  uint64_t errors() const { return by_class[4] + no_response; }
  void add(const TrafficSeries& series);
};

// The value below which a fraction `q` (0..1) of a histogram's observations
// fall, interpolated linearly inside the bucket it lands in (Prometheus'
// histogram_quantile over the same buckets). 0 for an empty histogram; the
// last finite bound when it lands in +Inf.
double histogram_quantile(const HistogramSnapshot& h, double q);

class TrafficStats {
 public:
  TrafficStats() = default;
  TrafficStats(const TrafficStats&) = delete;
  TrafficStats& operator=(const TrafficStats&) = delete;

  // ---- owning worker ----
  // `route` identifies the route object (its address; null: no route) and
  // `route_key` names it (Route::stats_key) on `listener`; `cluster` and
  // `cluster_name` likewise (null: no cluster). `cacheable`: the addresses
  // belong to the worker's current snapshot and stay valid until
  // on_snapshot_change(). `response_code` 0: no response was sent.
  void record(std::string_view listener, const void* route, std::string_view route_key, const void* cluster,
              std::string_view cluster_name, bool cacheable, int response_code, uint64_t duration_ms) {
    // Inline: the common case is the route and cluster of the last request.
    const size_t bucket = bucket_index(duration_ms);
    if (route != nullptr) {
      TrafficSeries& s =
          cacheable && last_route_.address == route
              ? *last_route_.series
              : find(routes_, route_by_address_, last_route_, route, listener, route_key, cacheable, true);
      count(s, response_code, bucket, duration_ms);
    }
    if (cluster != nullptr) {
      TrafficSeries& s = cacheable && last_cluster_.address == cluster
                             ? *last_cluster_.series
                             : find(clusters_, cluster_by_address_, last_cluster_, cluster, {}, cluster_name,
                                    cacheable, false);
      count(s, response_code, bucket, duration_ms);
    }
  }
  // The snapshot changed: addresses of the old one may be reused.
  void on_snapshot_change();

  // ---- any thread ----
  void for_each_route(const std::function<void(const TrafficSeries&)>& fn) const;
  void for_each_cluster(const std::function<void(const TrafficSeries&)>& fn) const;

 private:
  struct Cached {
    const void* address = nullptr;
    TrafficSeries* series = nullptr;
  };
  struct AddressHash {
    size_t operator()(const void* address) const;
  };
  using ByName = std::unordered_map<std::string_view, std::unique_ptr<TrafficSeries>>;
  // A route's address stands for its listener too: a snapshot's listeners
  // each have route tables of their own (compile/compiler.cc).
  using ByAddress = std::unordered_map<const void*, TrafficSeries*, AddressHash>;

  // The series of `address`, found by name when not cached (routes:
  // "<listener> <name>").
  TrafficSeries& find(ByName& by_name, ByAddress& by_address, Cached& last, const void* address,
                      std::string_view listener, std::string_view name, bool cacheable, bool route);
  static void bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  static void count(TrafficSeries& s, int response_code, size_t bucket, uint64_t duration_ms) {
    bump(s.requests);
    if (response_code >= 100 && response_code < 600) {
      bump(s.by_class[static_cast<size_t>(response_code / 100 - 1)]);
    } else {
      bump(s.no_response);
    }
    s.duration_ms.record_in(bucket, duration_ms);
  }

  mutable std::mutex mutex_;  // inserts (worker) vs iteration (admin)
  ByName routes_;
  ByName clusters_;
  ByAddress route_by_address_;    // worker only
  ByAddress cluster_by_address_;  // worker only
  Cached last_route_;
  Cached last_cluster_;
  std::string scratch_;  // the route's name being looked up (reused)
};

}  // namespace torii::telemetry
