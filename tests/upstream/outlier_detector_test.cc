// The outlier-detection state machine with injected time (ISTIO_SEMANTICS §5.6).
#include "upstream/outlier_detector.h"

#include <gtest/gtest.h>

#include <memory>

#include "upstream/cluster_state.h"

namespace torii::upstream {
namespace {

using Result = OutlierDetector::Result;

struct Fixture {
  OutlierPolicy policy;
  OutlierDetector detector;
  std::vector<std::unique_ptr<SharedEndpointState>> endpoints;
  std::vector<SharedEndpointState*> raw;

  explicit Fixture(size_t n) {
    policy.enabled = true;
    policy.interval_ms = 1000;
    policy.base_ejection_ms = 30000;
    policy.max_ejection_percent = 100;
    for (size_t i = 0; i < n; ++i) {
      endpoints.push_back(
          std::make_unique<SharedEndpointState>("10.0.0." + std::to_string(i) + ":80", 0, true));
      raw.push_back(endpoints.back().get());
    }
  }
  SharedEndpointState& e(size_t i) { return *endpoints[i]; }
  void status(size_t i, int code, uint64_t now, int times = 1) {
    for (int k = 0; k < times; ++k) detector.put_http_status(e(i), code, policy, endpoints.size(), now);
  }
  void sweep(uint64_t now) { detector.sweep(raw, policy, now); }
};

TEST(OutlierDetectorTest, Consecutive5xxEjectsAtThreshold) {
  Fixture f(4);
  f.status(0, 500, 100, 4);
  EXPECT_FALSE(f.e(0).ejected);
  f.status(0, 503, 100);  // 5th: Envoy's default consecutive5xxErrors
  EXPECT_TRUE(f.e(0).ejected);
  EXPECT_EQ(f.detector.stats().ejections_active, 1u);
  EXPECT_EQ(f.detector.stats().ejections_enforced_consecutive_5xx, 1u);
}

TEST(OutlierDetectorTest, SuccessResetsTheRun) {
  Fixture f(4);
  f.status(0, 500, 100, 4);
  f.status(0, 404, 100);  // 4xx is not an error
  f.status(0, 500, 100, 4);
  EXPECT_FALSE(f.e(0).ejected);
}

TEST(OutlierDetectorTest, ReturnsAfterBaseTimesEjectionsOnTheSweep) {
  Fixture f(4);
  f.status(0, 500, 0, 5);
  ASSERT_TRUE(f.e(0).ejected);
  f.sweep(29000);  // interval ticks: 29 s < 30 s
  EXPECT_TRUE(f.e(0).ejected);
  f.sweep(29500);  // not an interval later: no sweep
  f.sweep(30000);
  EXPECT_FALSE(f.e(0).ejected);
  EXPECT_EQ(f.detector.stats().ejections_active, 0u);
  // Ejected again straight away: 2 x base.
  f.status(0, 500, 30500, 5);
  ASSERT_TRUE(f.e(0).ejected);
  EXPECT_EQ(f.detector.ejection_duration_ms(f.e(0), f.policy), 60000u);
  f.sweep(31000);
  f.sweep(90000);  // 59.5 s
  EXPECT_TRUE(f.e(0).ejected);
  f.sweep(91000);  // 60.5 s
  EXPECT_FALSE(f.e(0).ejected);
  EXPECT_EQ(f.e(0).times_ejected, 2u);
  // Each interval spent healthy shortens the next ejection by one base.
  f.sweep(92000);  // the tick right after the return does not count
  f.sweep(93000);  // 2 -> 1
  f.sweep(94000);  // 1 -> 0
  f.status(0, 500, 94500, 5);
  EXPECT_EQ(f.detector.ejection_duration_ms(f.e(0), f.policy), 30000u);
}

TEST(OutlierDetectorTest, EjectionTimeIsCappedAtMax) {
  Fixture f(2);
  f.policy.base_ejection_ms = 200000;  // 2 x 200 s > max 300 s
  f.status(0, 500, 0, 5);
  f.sweep(200000);
  f.status(0, 500, 200001, 5);
  EXPECT_EQ(f.detector.ejection_duration_ms(f.e(0), f.policy), 300000u);
}

TEST(OutlierDetectorTest, MaxEjectionPercentButAlwaysOne) {
  Fixture f(4);
  f.policy.max_ejection_percent = 10;  // 10% of 4 < 1 host, but one is always allowed
  f.status(0, 500, 0, 5);
  EXPECT_TRUE(f.e(0).ejected);
  f.status(1, 500, 0, 5);
  EXPECT_FALSE(f.e(1).ejected);
  EXPECT_EQ(f.detector.stats().ejections_overflow, 1u);
  f.policy.max_ejection_percent = 50;
  f.status(1, 500, 0, 5);
  EXPECT_TRUE(f.e(1).ejected);
  f.status(2, 500, 0, 5);
  EXPECT_FALSE(f.e(2).ejected);
}

TEST(OutlierDetectorTest, GatewayErrorsOnlyWhenConfigured) {
  Fixture f(4);
  f.policy.consecutive_5xx = 0;
  f.policy.consecutive_gateway = 3;
  f.status(0, 500, 0, 10);  // not a gateway error
  EXPECT_FALSE(f.e(0).ejected);
  f.status(0, 502, 0);
  f.status(0, 504, 0);
  f.status(0, 503, 0);
  EXPECT_TRUE(f.e(0).ejected);
  EXPECT_EQ(f.detector.stats().ejections_enforced_consecutive_gateway_failure, 1u);
}

TEST(OutlierDetectorTest, LocalOriginWithoutSplitCountsAsGatewayError) {
  Fixture f(4);
  for (int i = 0; i < 5; ++i) f.detector.put_result(f.e(0), Result::ConnectFailed, f.policy, 4, 0);
  EXPECT_TRUE(f.e(0).ejected);
  EXPECT_EQ(f.detector.stats().ejections_enforced_consecutive_5xx, 1u);
}

TEST(OutlierDetectorTest, SplitLocalOriginCountsApart) {
  Fixture f(4);
  f.policy.split_local_origin = true;
  f.policy.consecutive_local_origin = 2;
  f.detector.put_result(f.e(0), Result::Timeout, f.policy, 4, 0);
  f.detector.put_result(f.e(0), Result::ConnectSuccess, f.policy, 4, 0);  // resets
  f.detector.put_result(f.e(0), Result::ConnectFailed, f.policy, 4, 0);
  EXPECT_FALSE(f.e(0).ejected);
  EXPECT_EQ(f.e(0).consecutive_5xx, 0u);  // local failures are not 5xx when split
  f.detector.put_result(f.e(0), Result::ConnectFailed, f.policy, 4, 0);
  EXPECT_TRUE(f.e(0).ejected);
  EXPECT_EQ(f.detector.stats().ejections_enforced_consecutive_local_origin_failure, 1u);
}

TEST(OutlierDetectorTest, DisabledPolicyDoesNothingAndReleasesEjections) {
  Fixture f(2);
  f.status(0, 500, 0, 5);
  ASSERT_TRUE(f.e(0).ejected);
  f.policy.enabled = false;  // a reload removed the outlierDetection block
  f.status(1, 500, 0, 10);
  EXPECT_FALSE(f.e(1).ejected);
  f.sweep(1000);
  EXPECT_FALSE(f.e(0).ejected);
  EXPECT_EQ(f.detector.stats().ejections_active, 0u);
}

// Host selection on top of the detector: ejected endpoints get no traffic,
// all-ejected is "no healthy upstream" unless the panic threshold kicks in.
TEST(ClusterStateHealthTest, EjectedEndpointsAreSkippedAndPanicApplies) {
  ClusterInfo info;
  info.name = "c";
  info.policy.write().lb = LbPolicy::RoundRobin;
  info.policy.write().outlier.enabled = true;
  info.policy.write().outlier.max_ejection_percent = 100;
  info.policy.write().healthy_panic_threshold = 0;
  for (int i = 0; i < 2; ++i) {
    Endpoint e;
    e.address = "10.0.0." + std::to_string(i + 1);
    e.port = 80;
    resolve_numeric(e);
    info.endpoints.push_back(e);
  }
  ClusterState state("c");
  FastRandom rng(1);
  ASSERT_EQ(state.choose(info, std::nullopt, rng, 10).status, ClusterState::Choice::Status::Ok);
  OutlierDetector& d = state.shared().outlier_detector();
  for (int i = 0; i < 5; ++i)
    d.put_http_status(*state.endpoint_state(0).shared, 500, info.policy->outlier, 2, 10);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(state.choose(info, std::nullopt, rng, 20).index, 1u);
  for (int i = 0; i < 5; ++i)
    d.put_http_status(*state.endpoint_state(1).shared, 500, info.policy->outlier, 2, 10);
  EXPECT_EQ(state.choose(info, std::nullopt, rng, 30).status,
            ClusterState::Choice::Status::NoHealthyUpstream);
  info.policy.write().healthy_panic_threshold = 50;
  state.unbind();  // a reload with the new threshold
  auto panic = state.choose(info, std::nullopt, rng, 40);
  EXPECT_EQ(panic.status, ClusterState::Choice::Status::Ok);
  EXPECT_TRUE(panic.panic);
}

TEST(ClusterStateHealthTest, PrioritiesSpillOverByHealth) {
  ClusterInfo info;
  info.name = "p";
  info.policy.write().lb = LbPolicy::RoundRobin;
  info.policy.write().outlier.enabled = true;
  info.policy.write().outlier.max_ejection_percent = 100;
  info.policy.write().healthy_panic_threshold = 0;
  for (int i = 0; i < 4; ++i) {
    Endpoint e;
    e.address = "10.0.0." + std::to_string(i + 1);
    e.port = 80;
    e.priority = i < 2 ? 0 : 1;
    resolve_numeric(e);
    info.endpoints.push_back(e);
  }
  ClusterState state("p");
  FastRandom rng(5);
  std::vector<int> hits(4);
  for (int i = 0; i < 1000; ++i) ++hits[state.choose(info, std::nullopt, rng, 10).index];
  EXPECT_EQ(hits[2] + hits[3], 0);  // P0 fully healthy takes everything
  // One of two P0 endpoints ejected: P0 health = 1.4 x 50% = 70%, P1 takes 30%.
  for (int i = 0; i < 5; ++i)
    state.shared().outlier_detector().put_http_status(*state.endpoint_state(0).shared, 500,
                                                      info.policy->outlier, 4, 10);
  hits.assign(4, 0);
  for (int i = 0; i < 10000; ++i) ++hits[state.choose(info, std::nullopt, rng, 20).index];
  EXPECT_EQ(hits[0], 0);
  EXPECT_NEAR(hits[1] / 10000.0, 0.70, 0.02);
  EXPECT_NEAR((hits[2] + hits[3]) / 10000.0, 0.30, 0.02);
}

TEST(ClusterStateWarmupTest, NewEndpointRampsUp) {
  ClusterInfo v1;
  v1.name = "w";
  v1.policy.write().lb = LbPolicy::RoundRobin;
  v1.policy.write().warmup.duration_ms = 10000;
  v1.policy.write().warmup.minimum_percent = 10;
  Endpoint e;
  e.address = "10.0.0.1";
  e.port = 80;
  resolve_numeric(e);
  v1.endpoints.push_back(e);
  ClusterState state("w");
  FastRandom rng(3);
  state.choose(v1, std::nullopt, rng, 1000);
  ClusterInfo v2 = v1;
  e.address = "10.0.0.2";
  resolve_numeric(e);
  v2.endpoints.push_back(e);  // appears at t=2000
  state.bind(v2, 2000);
  auto share = [&](uint64_t now) {
    int hits = 0;
    for (int i = 0; i < 1100; ++i) hits += state.choose(v2, std::nullopt, rng, now).index == 1;
    return hits / 1100.0;
  };
  EXPECT_NEAR(share(2000), 0.1 / 1.1, 0.02);  // minimumPercent 10%
  EXPECT_NEAR(share(7000), 0.5 / 1.5, 0.02);  // half way: weight 0.5
  EXPECT_NEAR(share(12001), 0.5, 0.01);       // warmed up
}

}  // namespace
}  // namespace torii::upstream
