#include "telemetry/histogram.h"

namespace torii::telemetry {

size_t bucket_index(uint64_t value) {
  // Observations are whole numbers: 0 is the only one under 0.5, and for
  // the rest the (integral) bounds compare exactly as integers.
  if (value == 0) return 0;
  static constexpr std::array<uint64_t, kDefaultBuckets.size() - 1> kIntegral = {
      1,    5,    10,    25,    50,    100,    250,    500,     1000,
      2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
  // Most observations are small (ms, KB): a linear scan ends early.
  for (size_t i = 0; i < kIntegral.size(); ++i) {
    if (value <= kIntegral[i]) return i + 1;
  }
  return kBucketCount - 1;
}

void HistogramSnapshot::add(const HistogramSnapshot& other) {
  for (size_t i = 0; i < kBucketCount; ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum += other.sum;
}

void Histogram::add_to(HistogramSnapshot& into) const {
  for (size_t i = 0; i < kBucketCount; ++i) {
    const uint64_t n = buckets_[i].load(std::memory_order_relaxed);
    into.buckets[i] += n;
    into.count += n;
  }
  into.sum += sum_.load(std::memory_order_relaxed);
}

}  // namespace torii::telemetry
