// Per-route and per-cluster traffic series (the dashboard's): counting by
// response class, the address cache across snapshot changes, merging
// workers, and the quantiles read from the histogram buckets.
#include "telemetry/traffic_stats.h"

#include <gtest/gtest.h>

#include <map>

namespace torii::telemetry {
namespace {

std::map<std::string, TrafficTotals> routes(const std::vector<const TrafficStats*>& workers) {
  std::map<std::string, TrafficTotals> out;
  for (const TrafficStats* w : workers)
    w->for_each_route([&out](const TrafficSeries& s) { out[s.name].add(s); });
  return out;
}

std::map<std::string, TrafficTotals> clusters(const std::vector<const TrafficStats*>& workers) {
  std::map<std::string, TrafficTotals> out;
  for (const TrafficStats* w : workers)
    w->for_each_cluster([&out](const TrafficSeries& s) { out[s.name].add(s); });
  return out;
}

TEST(HistogramQuantileTest, InterpolatesInsideTheBucketAsPrometheusDoes) {
  HistogramSnapshot h;
  EXPECT_EQ(histogram_quantile(h, 0.5), 0);  // empty
  // 10 observations in (1, 5]: the median is half-way through that bucket.
  h.buckets[bucket_index(3)] = 10;
  h.count = 10;
  EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(histogram_quantile(h, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(histogram_quantile(h, 0.0), 1.0);
  // 90 fast (0 ms) and 10 slow (in (100, 250]): p50 is in the first bucket,
  // p99 nine tenths into the slow one.
  HistogramSnapshot mixed;
  mixed.buckets[0] = 90;
  mixed.buckets[bucket_index(200)] = 10;
  mixed.count = 100;
  EXPECT_NEAR(histogram_quantile(mixed, 0.5), 0.5 * 50 / 90, 1e-9);
  EXPECT_NEAR(histogram_quantile(mixed, 0.99), 100 + 150 * 0.9, 1e-9);
  // Above the last bound: the last finite bound (Prometheus returns it too).
  HistogramSnapshot inf;
  inf.buckets[kBucketCount - 1] = 3;
  inf.count = 3;
  EXPECT_DOUBLE_EQ(histogram_quantile(inf, 0.5), kDefaultBuckets.back());
}

TEST(TrafficStatsTest, CountsRoutesAndClustersByClass) {
  TrafficStats w;
  int route = 0, cluster = 0;  // stand-ins for a Route and a ClusterInfo
  w.record("0.0.0.0_80", &route, "a.com default/vs#0", &cluster, "outbound|80||a", true, 200, 3);
  w.record("0.0.0.0_80", &route, "a.com default/vs#0", &cluster, "outbound|80||a", true, 503, 7);
  w.record("0.0.0.0_80", &route, "a.com default/vs#0", &cluster, "outbound|80||a", true, 0, 12);  // reset
  w.record("0.0.0.0_80", &route, "a.com default/vs#0", nullptr, {}, true, 404, 0);  // no cluster
  auto r = routes({&w});
  ASSERT_EQ(r.size(), 1u);
  const TrafficTotals& t = r.at("0.0.0.0_80 a.com default/vs#0");
  EXPECT_EQ(t.requests, 4u);
  EXPECT_EQ(t.by_class[1], 1u);
  EXPECT_EQ(t.by_class[3], 1u);
  EXPECT_EQ(t.by_class[4], 1u);
  EXPECT_EQ(t.no_response, 1u);
  EXPECT_EQ(t.errors(), 2u);  // 5xx and no response
  EXPECT_EQ(t.duration_ms.count, 4u);
  EXPECT_EQ(t.duration_ms.sum, 22u);
  auto c = clusters({&w});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c.at("outbound|80||a").requests, 3u);
  EXPECT_EQ(c.at("outbound|80||a").errors(), 2u);
}

TEST(TrafficStatsTest, SeriesAreNamedNotAddressedAcrossSnapshots) {
  TrafficStats w;
  int old_route = 0, new_route = 0, old_cluster = 0, new_cluster = 0;
  w.record("l", &old_route, "k", &old_cluster, "c", true, 200, 1);
  w.record("l", &old_route, "k", &old_cluster, "c", true, 200, 1);  // cached
  w.on_snapshot_change();
  // The new snapshot's objects for the same route and cluster: same series.
  w.record("l", &new_route, "k", &new_cluster, "c", true, 200, 1);
  // A long request of the old snapshot ends after the swap: by name only.
  w.record("l", &old_route, "k", &old_cluster, "c", false, 200, 1);
  // The old route's address reused for another route: must not count as "k".
  w.on_snapshot_change();
  w.record("l", &old_route, "other", &old_cluster, "c2", true, 200, 1);
  auto r = routes({&w});
  EXPECT_EQ(r.at("l k").requests, 4u);
  EXPECT_EQ(r.at("l other").requests, 1u);
  auto c = clusters({&w});
  EXPECT_EQ(c.at("c").requests, 4u);
  EXPECT_EQ(c.at("c2").requests, 1u);
}

TEST(TrafficStatsTest, RoutesAreNamedPerListenerAndWorkersMerge) {
  TrafficStats w1, w2;
  int route1 = 0, route2 = 0, cluster = 0;
  w1.record("0.0.0.0_80", &route1, "* default/vs#0", &cluster, "c", true, 200, 0);
  w1.record("0.0.0.0_8080", &route2, "* default/vs#0", &cluster, "c", true, 200, 0);
  w2.record("0.0.0.0_80", &route1, "* default/vs#0", &cluster, "c", true, 500, 300);
  auto r = routes({&w1, &w2});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.at("0.0.0.0_80 * default/vs#0").requests, 2u);
  EXPECT_EQ(r.at("0.0.0.0_80 * default/vs#0").errors(), 1u);
  EXPECT_EQ(r.at("0.0.0.0_8080 * default/vs#0").requests, 1u);
  const TrafficTotals& c = clusters({&w1, &w2}).at("c");
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.duration_ms.buckets[0], 2u);
  EXPECT_EQ(c.duration_ms.buckets[bucket_index(300)], 1u);
}

}  // namespace
}  // namespace torii::telemetry
