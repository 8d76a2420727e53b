// /stats?filter=: Envoy's partial-match regex filter, and the test that lets
// the page skip rendering the ~50 MB of cluster lines a filter cannot match.
#include "admin/stats_filter.h"

#include <gtest/gtest.h>

namespace torii::admin {
namespace {

TEST(StatsFilterTest, KeepsTheLinesWhoseNameMatchesAnywhere) {
  const StatsFilter filter("rq_total");
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(filter.filter_lines("a_rq_total: 1\nb: 2\ncluster.x.upstream_rq_total: 3\n"),
            "a_rq_total: 1\ncluster.x.upstream_rq_total: 3\n");
}

TEST(StatsFilterTest, AnAnchoredPatternElsewhereSkipsTheClusterLines) {
  EXPECT_FALSE(StatsFilter("^snapshot_clusters$").may_match_prefix("cluster."));
  EXPECT_FALSE(StatsFilter("^config_").may_match_prefix("cluster."));
  EXPECT_FALSE(StatsFilter("^cluster_x").may_match_prefix("cluster."));  // '_' sorts after '.'
  EXPECT_FALSE(StatsFilter("^a").may_match_prefix("cluster."));
}

TEST(StatsFilterTest, WhatCouldMatchAClusterLineKeepsThem) {
  for (const char* pattern :
       {"^cluster\\.", "^cluster", "^c", "^clus.*rq", "^cluster\\.outbound_80", "^c[a-k]?", "^cl(a)?",
        "^[a-c]a?",     // a match may be shorter than the range's top
        "upstream_rq",  // unanchored: may match anywhere
        "^snapshot|cluster", "(^a)|b", "^[a-z]+\\.x"}) {
    EXPECT_TRUE(StatsFilter(pattern).may_match_prefix("cluster.")) << pattern;
  }
}

TEST(StatsFilterTest, AnInvalidPatternIsNotOk) { EXPECT_FALSE(StatsFilter("(").ok()); }

}  // namespace
}  // namespace torii::admin
