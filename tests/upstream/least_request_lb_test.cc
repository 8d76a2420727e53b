#include "upstream/least_request_lb.h"

#include <gtest/gtest.h>

#include "upstream/cluster_state.h"

namespace torii::upstream {
namespace {

ClusterInfo make_cluster(std::vector<uint32_t> weights) {
  ClusterInfo info;
  info.name = "outbound|80||svc";
  for (size_t i = 0; i < weights.size(); ++i) {
    Endpoint e;
    e.address = "10.0.0." + std::to_string(i + 1);
    e.port = 80;
    e.weight = weights[i];
    e.lb_weight = weights[i];
    resolve_numeric(e);
    info.endpoints.push_back(e);
  }
  return info;
}

TEST(LeastRequestLbTest, WeightsAreHonouredWhenIdle) {
  ClusterInfo info = make_cluster({1, 3});
  ClusterState state(info.name);
  FastRandom rng(42);
  std::vector<int> hits(2);
  for (int i = 0; i < 40000; ++i) {
    EndpointSet set = state.endpoints(info);
    ++hits[state.load_balancer().pick(set, rng)];
  }
  double share = hits[1] / 40000.0;
  EXPECT_NEAR(share, 0.75, 0.02);
}

TEST(LeastRequestLbTest, EqualWeightsSpreadEvenly) {
  ClusterInfo info = make_cluster({1, 1, 1, 1});
  ClusterState state(info.name);
  FastRandom rng(7);
  std::vector<int> hits(4);
  for (int i = 0; i < 40000; ++i) ++hits[state.load_balancer().pick(state.endpoints(info), rng)];
  for (int h : hits) EXPECT_NEAR(h / 40000.0, 0.25, 0.02);
}

TEST(LeastRequestLbTest, PrefersIdleEndpoint) {
  ClusterInfo info = make_cluster({1, 1});
  ClusterState state(info.name);
  EndpointSet set = state.endpoints(info);
  set.states[0]->active_requests = 5;  // busy
  FastRandom rng(1);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(state.load_balancer().pick(set, rng), 1u);
}

TEST(LeastRequestLbTest, PrefersLessLoadedAmongMany) {
  ClusterInfo info = make_cluster({1, 1, 1, 1, 1, 1, 1, 1});
  ClusterState state(info.name);
  EndpointSet set = state.endpoints(info);
  for (size_t i = 0; i < set.size(); ++i) set.states[i]->active_requests = 10;
  set.states[3]->active_requests = 0;
  FastRandom rng(3);
  int idle_hits = 0;
  for (int i = 0; i < 8000; ++i) idle_hits += state.load_balancer().pick(set, rng) == 3;
  // P2C picks the idle endpoint whenever it is one of the two draws: 2/8.
  EXPECT_NEAR(idle_hits / 8000.0, 0.25, 0.03);
}

TEST(ClusterStateTest, EndpointStateSurvivesRebindByAddress) {
  ClusterInfo v1 = make_cluster({1, 1});
  ClusterState state(v1.name);
  EndpointState* first = state.endpoints(v1).states[1];
  first->active_requests = 2;
  ClusterInfo v2 = make_cluster({1, 1, 1});  // same two + one more
  EndpointSet set = state.endpoints(v2);
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set.states[1], first);
  EXPECT_EQ(set.states[1]->active_requests, 2u);
}

}  // namespace
}  // namespace torii::upstream
