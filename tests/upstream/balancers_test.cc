// Every balancer: distribution, weights, determinism of hashing, and how many
// keys move when an endpoint is added or removed.
#include <gtest/gtest.h>

#include <map>

#include "upstream/cluster_request.h"
#include "upstream/cluster_state.h"
#include "upstream/consistent_hash.h"
#include "upstream/hash.h"

namespace torii::upstream {
namespace {

ClusterInfo make_cluster(size_t n, LbPolicy lb, std::vector<uint32_t> weights = {}) {
  ClusterInfo info;
  info.name = "outbound|80||svc";
  info.policy.write().lb = lb;
  for (size_t i = 0; i < n; ++i) {
    Endpoint e;
    e.address = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    e.port = 8080;
    e.weight = e.lb_weight = weights.empty() ? 1 : weights[i];
    resolve_numeric(e);
    info.endpoints.push_back(e);
  }
  if (lb == LbPolicy::RingHash) info.hash_table = ConsistentHashTable::build_ring(info.endpoints, 1024);
  if (lb == LbPolicy::Maglev) info.hash_table = ConsistentHashTable::build_maglev(info.endpoints, 65537);
  return info;
}

std::vector<int> spread(ClusterInfo& info, int picks, std::optional<uint64_t> (*key)(int) = nullptr) {
  ClusterState state(info.name);
  FastRandom rng(11);
  std::vector<int> hits(info.endpoints.size());
  for (int i = 0; i < picks; ++i) {
    auto choice = state.choose(info, key ? key(i) : std::nullopt, rng, 1000);
    EXPECT_EQ(choice.status, ClusterState::Choice::Status::Ok);
    ++hits[choice.index];
  }
  return hits;
}

TEST(RoundRobinLbTest, ExactRotation) {
  ClusterInfo info = make_cluster(3, LbPolicy::RoundRobin);
  for (int h : spread(info, 300)) EXPECT_EQ(h, 100);
}

TEST(RoundRobinLbTest, WeightsAreExactAndInterleaved) {
  ClusterInfo info = make_cluster(3, LbPolicy::RoundRobin, {1, 2, 5});
  auto hits = spread(info, 800);
  EXPECT_EQ(hits[0], 100);
  EXPECT_EQ(hits[1], 200);
  EXPECT_EQ(hits[2], 500);
  // Smooth WRR: the heavy endpoint is never picked more than 3 times in a row with 5/8 share.
  ClusterState state(info.name);
  FastRandom rng(1);
  int run = 0, max_run = 0;
  size_t last = SIZE_MAX;
  for (int i = 0; i < 80; ++i) {
    size_t k = state.choose(info, std::nullopt, rng, 1000).index;
    run = k == last ? run + 1 : 1;
    last = k;
    max_run = std::max(max_run, run);
  }
  EXPECT_LE(max_run, 3);
}

TEST(RandomLbTest, FollowsWeights) {
  ClusterInfo info = make_cluster(2, LbPolicy::Random, {1, 3});
  auto hits = spread(info, 40000);
  EXPECT_NEAR(hits[1] / 40000.0, 0.75, 0.02);
}

TEST(PassthroughLbTest, BehavesAsRandomOverEndpoints) {
  ClusterInfo info = make_cluster(4, LbPolicy::Passthrough);
  for (int h : spread(info, 40000)) EXPECT_NEAR(h / 40000.0, 0.25, 0.02);
}

std::optional<uint64_t> key_of(int i) { return xxhash64("user-" + std::to_string(i)); }

class HashLbTest : public ::testing::TestWithParam<LbPolicy> {};

TEST_P(HashLbTest, SpreadsKeysAndHonoursWeights) {
  ClusterInfo even = make_cluster(4, GetParam());
  for (int h : spread(even, 40000, key_of)) EXPECT_NEAR(h / 40000.0, 0.25, 0.04);
  ClusterInfo weighted = make_cluster(2, GetParam(), {1, 3});
  EXPECT_NEAR(spread(weighted, 40000, key_of)[1] / 40000.0, 0.75, 0.04);
}

TEST_P(HashLbTest, DeterministicAcrossWorkersAndRebuilds) {
  ClusterInfo a = make_cluster(5, GetParam());
  ClusterInfo b = make_cluster(5, GetParam());  // another compile of the same endpoints
  ClusterState w1(a.name), w2(b.name);
  FastRandom r1(1), r2(999);
  for (int i = 0; i < 2000; ++i) {
    EXPECT_EQ(w1.choose(a, key_of(i), r1, 1000).index, w2.choose(b, key_of(i), r2, 1000).index);
  }
}

// Adding or removing one of N endpoints moves about 1/N of the keys.
TEST_P(HashLbTest, MinimalDisruption) {
  constexpr int kKeys = 20000;
  constexpr size_t kN = 10;
  ClusterInfo before = make_cluster(kN, GetParam());
  ClusterInfo added = make_cluster(kN + 1, GetParam());
  std::vector<uint8_t> all;
  auto owner = [&](const ClusterInfo& c, int i) {
    size_t k = c.hash_table->lookup(*key_of(i), all);
    return c.endpoints[k].address;
  };
  int moved_add = 0;
  for (int i = 0; i < kKeys; ++i) moved_add += owner(before, i) != owner(added, i);
  // Expected 1/(N+1) ~ 9.1%; all moved keys go to the new endpoint.
  EXPECT_NEAR(moved_add / double(kKeys), 1.0 / (kN + 1), 0.03);
  // Ring: every moved key goes to the new endpoint. Maglev trades a little
  // extra churn between old endpoints for its even spread.
  int to_new = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (owner(before, i) != owner(added, i)) to_new += owner(added, i) == added.endpoints.back().address;
  }
  if (GetParam() == LbPolicy::RingHash) {
    EXPECT_EQ(to_new, moved_add);
  } else {
    EXPECT_GT(to_new, moved_add * 3 / 4);
  }
  ClusterInfo removed = before;
  removed.endpoints.erase(removed.endpoints.begin() + 3);
  removed.hash_table = GetParam() == LbPolicy::RingHash
                           ? ConsistentHashTable::build_ring(removed.endpoints, 1024)
                           : ConsistentHashTable::build_maglev(removed.endpoints, 65537);
  int moved_remove = 0;
  for (int i = 0; i < kKeys; ++i) moved_remove += owner(before, i) != owner(removed, i);
  EXPECT_NEAR(moved_remove / double(kKeys), 1.0 / kN, 0.03);
}

TEST_P(HashLbTest, UnusableEndpointOnlyMovesItsOwnKeys) {
  ClusterInfo info = make_cluster(6, GetParam());
  std::vector<uint8_t> all, without2(6, 1);
  without2[2] = 0;
  for (int i = 0; i < 5000; ++i) {
    size_t a = info.hash_table->lookup(*key_of(i), all);
    size_t b = info.hash_table->lookup(*key_of(i), without2);
    EXPECT_NE(b, 2u);
    if (a != 2) {
      EXPECT_EQ(a, b);
    }
  }
}

TEST_P(HashLbTest, NoKeyMeansRandom) {
  ClusterInfo info = make_cluster(4, GetParam());
  for (int h : spread(info, 20000)) EXPECT_NEAR(h / 20000.0, 0.25, 0.03);
}

INSTANTIATE_TEST_SUITE_P(RingAndMaglev, HashLbTest, ::testing::Values(LbPolicy::RingHash, LbPolicy::Maglev),
                         [](const auto& p) {
                           return std::string(lb_policy_name(p.param)) == "MAGLEV" ? "Maglev" : "RingHash";
                         });

TEST(ConsistentHashTest, RingSizeFollowsMinimumAndWeights) {
  ClusterInfo info = make_cluster(3, LbPolicy::RingHash, {1, 1, 2});
  auto ring = ConsistentHashTable::build_ring(info.endpoints, 1024);
  // weights 1:1:2 = 4 units, 256 points per unit (power of two >= 1024 / 4)
  EXPECT_EQ(ring->size(), 1024u);
  EXPECT_EQ(ConsistentHashTable::build_ring(make_cluster(3, LbPolicy::RingHash).endpoints, 1024)->size(),
            3u * 512);
  EXPECT_EQ(ConsistentHashTable::build_maglev(info.endpoints, 65537)->size(), 65537u);
}

}  // namespace
}  // namespace torii::upstream

namespace torii::upstream {
namespace {

// previous_hosts: a retry never goes back to an endpoint it tried while an
// untried one is usable, whatever the balancer draws (Envoy keeps its fifth
// pick even if tried; Torii takes an untried endpoint then).
TEST(RetryHostSelectionTest, UntriedEndpointWhileOneIsUsable) {
  for (LbPolicy lb : {LbPolicy::LeastRequest, LbPolicy::RoundRobin, LbPolicy::Random}) {
    ClusterInfo info = make_cluster(2, lb);
    ClusterState state(info.name);
    const std::vector<size_t> tried = {0};
    for (uint64_t seed = 1; seed <= 500; ++seed) {
      FastRandom rng(seed);
      ClusterRequest request;
      ASSERT_EQ(request.start(state, info, std::nullopt, rng, 1000, &tried, 5),
                ClusterRequest::Admission::Ok);
      EXPECT_EQ(request.endpoint_index(), 1u) << "seed " << seed;
    }
  }
}

TEST(RetryHostSelectionTest, EveryEndpointTriedKeepsThePick) {
  ClusterInfo info = make_cluster(2, LbPolicy::LeastRequest);
  ClusterState state(info.name);
  const std::vector<size_t> tried = {0, 1};
  FastRandom rng(7);
  ClusterRequest request;
  ASSERT_EQ(request.start(state, info, std::nullopt, rng, 1000, &tried, 5), ClusterRequest::Admission::Ok);
  EXPECT_LT(request.endpoint_index(), 2u);
}

}  // namespace
}  // namespace torii::upstream
