// Policy layering (ISTIO_SEMANTICS §5.2), Istio's translation and defaults,
// and locality priorities / weights (§5.4).
#include "compile/traffic_policy_resolution.h"

#include <gtest/gtest.h>

#include "compile/locality_lb.h"

namespace torii::compile {
namespace {

config::LoadBalancerSettings simple(std::string name) {
  config::LoadBalancerSettings lb;
  lb.simple = std::move(name);
  return lb;
}

config::ConnectionPoolSettings max_connections(uint32_t n) {
  config::ConnectionPoolSettings cp;
  cp.tcp = config::ConnectionPoolSettings::Tcp{};
  cp.tcp->max_connections = n;
  return cp;
}

TEST(TrafficPolicyResolutionTest, DefaultsWithoutAnyPolicy) {
  upstream::ClusterPolicy p = compile_cluster_policy(nullptr);
  EXPECT_EQ(p.lb, upstream::LbPolicy::LeastRequest);
  EXPECT_EQ(p.limits.max_connections, upstream::kUnlimited);
  EXPECT_EQ(p.limits.max_pending_requests, upstream::kUnlimited);
  EXPECT_EQ(p.connection.connect_timeout_ms, 10000u);
  EXPECT_FALSE(p.outlier.enabled);
  EXPECT_EQ(p.healthy_panic_threshold, 50u);
}

TEST(TrafficPolicyResolutionTest, PortLevelReplacesWholeGroups) {
  config::TrafficPolicy top;
  top.load_balancer = simple("ROUND_ROBIN");
  top.connection_pool = max_connections(10);
  config::PortTrafficPolicy port;
  port.port = 8080;
  port.load_balancer = simple("RANDOM");
  top.port_level_settings.push_back(port);

  auto on_80 = merge_traffic_policy(&top, nullptr, 80);
  EXPECT_EQ(on_80->load_balancer->simple, "ROUND_ROBIN");
  EXPECT_TRUE(on_80->connection_pool);
  auto on_8080 = merge_traffic_policy(&top, nullptr, 8080);
  EXPECT_EQ(on_8080->load_balancer->simple, "RANDOM");
  // connectionPool omitted at port level => default, not inherited.
  EXPECT_FALSE(on_8080->connection_pool);
  EXPECT_EQ(compile_cluster_policy(&*on_8080).limits.max_connections, upstream::kUnlimited);
}

TEST(TrafficPolicyResolutionTest, SubsetOverridesGroupWise) {
  config::TrafficPolicy top;
  top.load_balancer = simple("ROUND_ROBIN");
  top.connection_pool = max_connections(10);
  config::TrafficPolicy subset;
  subset.load_balancer = simple("RANDOM");
  auto merged = merge_traffic_policy(&top, &subset, 80);
  EXPECT_EQ(merged->load_balancer->simple, "RANDOM");
  EXPECT_EQ(merged->connection_pool->tcp->max_connections, 10u);  // kept from top level
  // Only a subset policy: it alone.
  auto only = merge_traffic_policy(nullptr, &subset, 80);
  EXPECT_EQ(only->load_balancer->simple, "RANDOM");
  EXPECT_FALSE(merge_traffic_policy(nullptr, nullptr, 80));
}

TEST(TrafficPolicyResolutionTest, OutlierDefaultsAndPanic) {
  config::TrafficPolicy p;
  p.outlier_detection = config::OutlierDetection{};
  upstream::ClusterPolicy c = compile_cluster_policy(&p);
  EXPECT_TRUE(c.outlier.enabled);
  EXPECT_EQ(c.outlier.consecutive_5xx, 5u);
  EXPECT_EQ(c.outlier.consecutive_gateway, 0u);
  EXPECT_EQ(c.outlier.interval_ms, 10000u);
  EXPECT_EQ(c.outlier.base_ejection_ms, 30000u);
  EXPECT_EQ(c.outlier.max_ejection_percent, 10u);
  EXPECT_EQ(c.healthy_panic_threshold, 0u);     // Istio: minHealthPercent, 0 by default
  p.outlier_detection->consecutive_errors = 7;  // deprecated: gateway errors only
  c = compile_cluster_policy(&p);
  EXPECT_EQ(c.outlier.consecutive_5xx, 0u);
  EXPECT_EQ(c.outlier.consecutive_gateway, 7u);
  p.outlier_detection->split_external_local_origin_errors = true;
  EXPECT_EQ(compile_cluster_policy(&p).outlier.consecutive_local_origin, 5u);
}

TEST(TrafficPolicyResolutionTest, ConsistentHashAlgorithms) {
  config::TrafficPolicy p;
  p.load_balancer = config::LoadBalancerSettings{};
  p.load_balancer->consistent_hash = config::LoadBalancerSettings::ConsistentHash{};
  p.load_balancer->consistent_hash->http_header_name = "X-User";
  upstream::ClusterPolicy c = compile_cluster_policy(&p);
  EXPECT_EQ(c.lb, upstream::LbPolicy::RingHash);  // no algorithm given: ring of 1024
  EXPECT_EQ(c.ring_size, 1024u);
  EXPECT_EQ(c.hash.kind, upstream::HashPolicy::Kind::Header);
  EXPECT_EQ(c.hash.name, "x-user");
  p.load_balancer->consistent_hash->maglev = true;
  p.load_balancer->consistent_hash->maglev_table_size = 131;
  c = compile_cluster_policy(&p);
  EXPECT_EQ(c.lb, upstream::LbPolicy::Maglev);
  EXPECT_EQ(c.maglev_table_size, 131u);
}

TEST(TrafficPolicyResolutionTest, ZeroMeansUnsetForLimits) {
  config::TrafficPolicy p;
  p.connection_pool = config::ConnectionPoolSettings{};
  p.connection_pool->http = config::ConnectionPoolSettings::Http{};
  p.connection_pool->http->http1_max_pending_requests = 0;
  p.connection_pool->http->http2_max_requests = 5;
  upstream::ClusterPolicy c = compile_cluster_policy(&p);
  EXPECT_EQ(c.limits.max_pending_requests, upstream::kUnlimited);
  EXPECT_EQ(c.limits.max_requests, 5u);
}

std::vector<upstream::Endpoint> endpoints(std::vector<std::string> localities) {
  std::vector<upstream::Endpoint> out;
  for (size_t i = 0; i < localities.size(); ++i) {
    upstream::Endpoint e;
    e.address = "10.0.0." + std::to_string(i + 1);
    e.locality = localities[i];
    out.push_back(e);
  }
  return out;
}

TEST(LocalityLbTest, FailoverPrioritiesCompacted) {
  GatewayIdentity id;
  id.locality = "us/a/1";
  auto eps = endpoints({"us/a/1", "us/a/2", "us/b/1", "eu/a/1"});
  EXPECT_TRUE(apply_locality_lb(eps, nullptr, true, id).failover);
  EXPECT_EQ(eps[0].priority, 0u);
  EXPECT_EQ(eps[1].priority, 1u);
  EXPECT_EQ(eps[2].priority, 2u);
  EXPECT_EQ(eps[3].priority, 3u);
  // Without outlier detection: no failover at all.
  auto flat = endpoints({"us/a/1", "eu/a/1"});
  EXPECT_FALSE(apply_locality_lb(flat, nullptr, false, id).failover);
  EXPECT_EQ(flat[1].priority, 0u);
}

TEST(LocalityLbTest, FailoverRuleAndPriorityLabels) {
  GatewayIdentity id;
  id.locality = "us/a/1";
  config::LocalityLbSetting s;
  s.failover.push_back({"us", "eu"});
  auto eps = endpoints({"us/a/1", "ap/a/1", "eu/a/1"});
  apply_locality_lb(eps, &s, true, id);
  EXPECT_EQ(eps[0].priority, 0u);
  EXPECT_EQ(eps[2].priority, 1u);  // the failover region (P3 -> compacted)
  EXPECT_EQ(eps[1].priority, 2u);  // other regions (P4)

  config::LocalityLbSetting labels;
  labels.failover_priority = {"topology.kubernetes.io/region", "track=canary"};
  auto by_label = endpoints({"us/x", "us/y", "eu/x"});
  by_label[1].labels["track"] = "canary";
  apply_locality_lb(by_label, &labels, true, id);
  EXPECT_EQ(by_label[1].priority, 0u);  // region + track
  EXPECT_EQ(by_label[0].priority, 1u);  // region only
  EXPECT_EQ(by_label[2].priority, 2u);  // nothing
}

TEST(LocalityLbTest, DistributeSetsWeightsAndDropsUnnamed) {
  GatewayIdentity id;
  id.locality = "us/a/1";
  config::LocalityLbSetting s;
  s.distribute.push_back({"us/a/*", {{"us/a/*", 20}, {"us/b/*", 80}}});
  auto eps = endpoints({"us/a/1", "us/b/1", "us/b/2", "eu/a/1"});
  LocalityOutcome out = apply_locality_lb(eps, &s, false, id);
  EXPECT_TRUE(out.distributed);
  EXPECT_EQ(out.removed, 1u);
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].lb_weight, 20000u);
  EXPECT_EQ(eps[1].lb_weight, 40000u);
  EXPECT_EQ(eps[2].lb_weight, 40000u);
}

TEST(LocalityLbTest, NothingWithoutGatewayLocalityOrWhenDisabled) {
  GatewayIdentity id;
  auto eps = endpoints({"us/a/1", "eu/a/1"});
  EXPECT_FALSE(apply_locality_lb(eps, nullptr, true, id).failover);
  id.locality = "us/a/1";
  config::LocalityLbSetting off;
  off.enabled = false;
  EXPECT_FALSE(apply_locality_lb(eps, &off, true, id).failover);
  EXPECT_EQ(
      locality_from_labels({{"topology.kubernetes.io/region", "us"}, {"topology.kubernetes.io/zone", "a"}}),
      "us/a");
  EXPECT_EQ(locality_from_labels({{"istio-locality", "us.a.1"}}), "us/a/1");
}

}  // namespace
}  // namespace torii::compile
