// Istio's request histograms (duration in ms, request/response bytes) with
// Envoy's default bucket bounds, the ones every histogram of a stock Istio
// gateway uses (no statsHistogramBuckets annotation by default).
//
// A Histogram has one writer (the worker that owns it) and any number of
// readers (the admin thread on scrape): the writer's record() is relaxed
// loads and stores, no locked instruction and no allocation; readers add
// snapshots of all workers' histograms. Envoy approximates (log-linear
// buckets merged every 5 s); these counts are exact and current.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace torii::telemetry {

// Envoy's default upper bounds (source/common/stats/histogram_impl.cc), then +Inf.
inline constexpr std::array<double, 19> kDefaultBuckets = {
    0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
    2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
inline constexpr size_t kBucketCount = kDefaultBuckets.size() + 1;  // the last one is +Inf

// Index of the bucket an integer observation falls in: the first bound >= value.
size_t bucket_index(uint64_t value);

// Merged, non-cumulative counts (bucket i: values in (bound[i-1], bound[i]]).
struct HistogramSnapshot {
  std::array<uint64_t, kBucketCount> buckets{};
  uint64_t count = 0;
  uint64_t sum = 0;
  void add(const HistogramSnapshot& other);
};

class Histogram {
 public:
  // Owning thread only.
  void record(uint64_t value) { record_in(bucket_index(value), value); }
  // record() with the bucket already known (bucket_index(value)), for a
  // value recorded into several histograms.
  void record_in(size_t bucket, uint64_t value) {
    bump(buckets_[bucket], 1);
    bump(sum_, value);
  }
  // Any thread; `into` += this histogram's counts. The count is the sum of
  // the buckets read, so a snapshot is never inconsistent with itself.
  void add_to(HistogramSnapshot& into) const;

 private:
  static void bump(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::array<std::atomic<uint64_t>, kBucketCount> buckets_{};
  std::atomic<uint64_t> sum_{0};
};

}  // namespace torii::telemetry
