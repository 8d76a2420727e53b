// Layer-4 filter chain matching by server name and weighted picks (router/l4_route.h).
#include "router/l4_route.h"

#include <gtest/gtest.h>

#include <map>

namespace torii::router {
namespace {

TEST(ServerNameRank, ExactBeatsLongestWildcardBeatsCatchAll) {
  const std::vector<std::string> exact = {"a.example.test"};
  const std::vector<std::string> wide = {"*.test"};
  const std::vector<std::string> narrow = {"*.example.test"};
  const std::vector<std::string> any = {};
  const std::string_view sni = "a.example.test";
  EXPECT_GT(server_name_rank(exact, sni), server_name_rank(narrow, sni));
  EXPECT_GT(server_name_rank(narrow, sni), server_name_rank(wide, sni));
  EXPECT_GT(server_name_rank(wide, sni), server_name_rank(any, sni));
  EXPECT_EQ(server_name_rank(any, sni), 1u);
}

TEST(ServerNameRank, NoMatch) {
  EXPECT_EQ(server_name_rank({"a.example.test"}, "b.example.test"), 0u);
  // A wildcard never takes its own suffix.
  EXPECT_EQ(server_name_rank({"*.example.test"}, "example.test"), 0u);
  // No SNI: only a chain without names.
  EXPECT_EQ(server_name_rank({"*.example.test"}, ""), 0u);
  EXPECT_EQ(server_name_rank({}, ""), 1u);
}

TEST(ServerNameRank, CaseInsensitiveAndDeepWildcards) {
  EXPECT_GT(server_name_rank({"A.Example.Test"}, "a.example.test"), 1u);
  EXPECT_GT(server_name_rank({"*.example.test"}, "x.y.example.test"), 1u);
}

TEST(L4RoutePick, FollowsRelativeWeights) {
  L4Route route;
  route.clusters.push_back(WeightedCluster{"a", nullptr, 3, {}});
  route.clusters.push_back(WeightedCluster{"b", nullptr, 1, {}});
  route.total_weight = 4;
  std::map<std::string, int> seen;
  for (uint64_t r = 0; r < 400; ++r) ++seen[route.pick(r).name];
  EXPECT_EQ(seen["a"], 300);
  EXPECT_EQ(seen["b"], 100);
}

}  // namespace
}  // namespace torii::router
