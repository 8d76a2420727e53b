#include "telemetry/histogram.h"

#include <gtest/gtest.h>

namespace torii::telemetry {
namespace {

TEST(HistogramTest, BucketIndexFollowsEnvoysBoundsInclusive) {
  EXPECT_EQ(bucket_index(0), 0u);  // le="0.5"
  EXPECT_EQ(bucket_index(1), 1u);  // le="1": a bound is in its own bucket
  EXPECT_EQ(bucket_index(2), 2u);  // le="5"
  EXPECT_EQ(bucket_index(5), 2u);
  EXPECT_EQ(bucket_index(6), 3u);
  EXPECT_EQ(bucket_index(250), 7u);
  EXPECT_EQ(bucket_index(251), 8u);
  EXPECT_EQ(bucket_index(3600000), 18u);
  EXPECT_EQ(bucket_index(3600001), 19u);  // +Inf
  EXPECT_EQ(bucket_index(UINT64_MAX), kBucketCount - 1);
  // Every bound lands in the bucket it names, and one more in the next.
  for (size_t i = 1; i < kDefaultBuckets.size(); ++i) {
    const auto bound = static_cast<uint64_t>(kDefaultBuckets[i]);
    EXPECT_EQ(bucket_index(bound), i) << bound;
    EXPECT_EQ(bucket_index(bound + 1), i + 1) << bound;
  }
}

TEST(HistogramTest, RecordsCountsAndSum) {
  Histogram h;
  for (uint64_t v : {0, 1, 1, 7, 30000, 4000000}) h.record(v);
  HistogramSnapshot s;
  h.add_to(s);
  EXPECT_EQ(s.count, 6u);
  EXPECT_EQ(s.sum, 0u + 1 + 1 + 7 + 30000 + 4000000);
  EXPECT_EQ(s.buckets[0], 1u);
  EXPECT_EQ(s.buckets[1], 2u);
  EXPECT_EQ(s.buckets[3], 1u);   // 7 in (5, 10]
  EXPECT_EQ(s.buckets[13], 1u);  // 30000 in (10000, 30000]
  EXPECT_EQ(s.buckets[19], 1u);  // above 1 h
}

TEST(HistogramTest, SnapshotsOfSeveralWorkersAddUp) {
  Histogram a, b;
  a.record(3);
  b.record(3);
  b.record(100);
  HistogramSnapshot s;
  a.add_to(s);
  b.add_to(s);
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.sum, 106u);
  EXPECT_EQ(s.buckets[2], 2u);
  EXPECT_EQ(s.buckets[6], 1u);
  HistogramSnapshot total;
  total.add(s);
  total.add(s);
  EXPECT_EQ(total.count, 6u);
  EXPECT_EQ(total.buckets[2], 4u);
}

}  // namespace
}  // namespace torii::telemetry
