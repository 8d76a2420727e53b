// /stats cluster lines: every cluster of the snapshot is listed, with zeros
// until a worker has used it (its state is made on first use).
#include <gtest/gtest.h>

#include "admin/clusters_page.h"
#include "upstream/cluster_info.h"

namespace torii::admin {
namespace {

compile::Snapshot snapshot_with(const std::vector<std::string>& names) {
  compile::Snapshot s;
  for (const std::string& name : names) {
    auto info = std::make_unique<upstream::ClusterInfo>();
    info->name = name;
    info->index = s.clusters.size();
    s.clusters.push_back(std::move(info));
  }
  return s;
}

TEST(ClusterStatsTest, UnusedClustersOfTheSnapshotShowZeros) {
  upstream::SharedClusterRegistry registry;
  auto used = registry.get("outbound|80||used.default.svc.cluster.local", 0);
  used->stats().upstream_rq_total.store(7);
  const compile::Snapshot snapshot = snapshot_with(
      {"outbound|80||unused.default.svc.cluster.local", "outbound|80||used.default.svc.cluster.local"});

  const std::string out = cluster_stats(registry, &snapshot);
  EXPECT_NE(out.find("cluster.outbound|80||used.default.svc.cluster.local.upstream_rq_total: 7\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("cluster.outbound|80||unused.default.svc.cluster.local.upstream_rq_total: 0\n"),
            std::string::npos)
      << out;
  // Sorted by name, each cluster once.
  EXPECT_LT(out.find("unused.default"), out.find("||used.default"));
  EXPECT_EQ(out.find("upstream_rq_total: 7"), out.rfind("upstream_rq_total: 7"));
}

TEST(ClusterStatsTest, ClustersGoneFromTheSnapshotStayWhileTheirStateLives) {
  upstream::SharedClusterRegistry registry;
  auto draining = registry.get("outbound|80||old.default.svc.cluster.local", 0);
  const compile::Snapshot snapshot = snapshot_with({});
  EXPECT_NE(cluster_stats(registry, &snapshot).find("cluster.outbound|80||old.default.svc.cluster.local."),
            std::string::npos);
}

}  // namespace
}  // namespace torii::admin
