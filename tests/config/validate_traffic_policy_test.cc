// DestinationRule trafficPolicy: parsing into config::TrafficPolicy and
// istiod's validation rules (ISTIO_SEMANTICS §5, §9).
#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::no_errors;
using testing::rejected;

LoadResult dr(std::string_view spec) { return testing::load_istio("DestinationRule", spec); }

TEST(ParseTrafficPolicyTest, AllGroups) {
  const LoadResult r = dr(R"(host: reviews
trafficPolicy:
  loadBalancer:
    consistentHash:
      httpCookie: {name: user, path: /, ttl: 10s, attributes: [{name: SameSite, value: Strict}, {name: Secure}]}
      ringHash: {minimumRingSize: 2048}
    localityLbSetting:
      distribute: [{from: "us/a/*", to: {"us/a/*": 80, "us/b/*": 20}}]
    warmupDurationSecs: 30s
  connectionPool:
    tcp: {maxConnections: 10, connectTimeout: 250ms, maxConnectionDuration: 1h, idleTimeout: 0s,
          tcpKeepalive: {probes: 3, time: 60s, interval: 5s}}
    http: {http1MaxPendingRequests: 1, http2MaxRequests: 7, maxRequestsPerConnection: 1, maxRetries: 3,
           idleTimeout: 30s, maxConcurrentStreams: 100}
  outlierDetection:
    consecutive5xxErrors: 0
    consecutiveGatewayErrors: 3
    interval: 1s
    baseEjectionTime: 15s
    maxEjectionPercent: 50
    minHealthPercent: 25
  portLevelSettings:
  - port: {number: 9080}
    loadBalancer: {simple: ROUND_ROBIN}
subsets:
- name: v1
  labels: {version: v1}
  trafficPolicy: {loadBalancer: {simple: random}}
)");
  ASSERT_TRUE(no_errors(r));
  ASSERT_EQ(r.resources().destination_rules.size(), 1u);
  const DestinationRule d = r.resources().destination_rules[0];
  ASSERT_TRUE(d.traffic_policy);
  const TrafficPolicy& p = *d.traffic_policy;
  ASSERT_TRUE(p.load_balancer && p.load_balancer->consistent_hash);
  const auto& ch = *p.load_balancer->consistent_hash;
  ASSERT_TRUE(ch.http_cookie);
  EXPECT_EQ(ch.http_cookie->name, "user");
  EXPECT_EQ(ch.http_cookie->ttl_ms, 10000);
  ASSERT_EQ(ch.http_cookie->attributes.size(), 2u);
  EXPECT_EQ(ch.http_cookie->attributes[1].first, "Secure");
  EXPECT_TRUE(ch.ring_hash);
  EXPECT_EQ(ch.ring_hash_minimum_ring_size, 2048u);
  ASSERT_TRUE(p.load_balancer->locality_lb_setting);
  EXPECT_EQ(p.load_balancer->locality_lb_setting->distribute[0].to.size(), 2u);
  EXPECT_EQ(p.load_balancer->warmup_duration_ms, 30000);
  ASSERT_TRUE(p.connection_pool && p.connection_pool->tcp && p.connection_pool->http);
  EXPECT_EQ(p.connection_pool->tcp->max_connections, 10u);
  EXPECT_EQ(p.connection_pool->tcp->connect_timeout_ms, 250);
  EXPECT_EQ(p.connection_pool->tcp->idle_timeout_ms, 0);
  EXPECT_EQ(p.connection_pool->tcp->tcp_keepalive->probes, 3u);
  EXPECT_EQ(p.connection_pool->http->http1_max_pending_requests, 1u);
  EXPECT_EQ(p.connection_pool->http->http2_max_requests, 7u);
  EXPECT_EQ(p.connection_pool->http->max_retries, 3u);
  ASSERT_TRUE(p.outlier_detection);
  EXPECT_EQ(p.outlier_detection->consecutive_5xx_errors, 0u);  // explicit 0 is kept (disables)
  EXPECT_EQ(p.outlier_detection->consecutive_gateway_errors, 3u);
  EXPECT_FALSE(p.outlier_detection->consecutive_local_origin_failures);
  EXPECT_EQ(p.outlier_detection->base_ejection_time_ms, 15000);
  EXPECT_EQ(p.outlier_detection->min_health_percent, 25);
  ASSERT_EQ(p.port_level_settings.size(), 1u);
  EXPECT_EQ(p.port_level_settings[0].port, 9080u);
  EXPECT_EQ(p.port_level_settings[0].load_balancer->simple, "ROUND_ROBIN");
  ASSERT_TRUE(d.subsets[0].traffic_policy);
  EXPECT_EQ(d.subsets[0].traffic_policy->load_balancer->simple, "RANDOM");
}

TEST(ValidateTrafficPolicyTest, EmptyPolicies) {
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {}\n"), "spec.trafficPolicy",
                        "traffic policy must have at least one field"));
  EXPECT_TRUE(has_error(dr("host: a\nsubsets: [{name: v1, trafficPolicy: {}}]\n"),
                        "spec.subsets[0].trafficPolicy", "traffic policy must have at least one field"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {portLevelSettings: [{port: {number: 80}}]}\n"),
                        "spec.trafficPolicy.portLevelSettings[0]",
                        "port traffic policy must have at least one field"));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {portLevelSettings: [{loadBalancer: {simple: RANDOM}}]}\n"),
                "spec.trafficPolicy.portLevelSettings[0].port", "portTrafficPolicy must have valid port"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {connectionPool: {}}\n"),
                        "spec.trafficPolicy.connectionPool", "connection pool must have at least one field"));
}

TEST(ValidateTrafficPolicyTest, LoadBalancer) {
  EXPECT_TRUE(no_errors(dr("host: a\ntrafficPolicy: {loadBalancer: {simple: LEAST_CONN}}\n")));
  EXPECT_TRUE(rejected(dr("host: a\ntrafficPolicy: {loadBalancer: {simple: FASTEST}}\n")));
  EXPECT_TRUE(has_error(
      dr("host: a\ntrafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {ttl: 0s}}}}\n"),
      "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name", "name required for HttpCookie"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: c, "
                           "attributes: [{name: Secure}, {name: Secure}]}}}}\n"),
                        "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes",
                        "duplicated"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, "
                           "maglev: {tableSize: 65536}}}}\n"),
                        "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize",
                        "tableSize must be a prime number for maglev"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, "
                           "maglev: {tableSize: 5000011}}}}\n"),
                        "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize",
                        "less than 5000011"));
  EXPECT_TRUE(
      no_errors(dr("host: a\ntrafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, "
                   "maglev: {tableSize: 65537}}}}\n")));
  const LoadResult deprecated =
      dr("host: a\ntrafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x, minimumRingSize: 10, "
         "ringHash: {}}}}\n");
  EXPECT_TRUE(has_warning(deprecated, "spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize",
                          "deprecated"));
  EXPECT_TRUE(has_error(deprecated, "spec.trafficPolicy.loadBalancer.consistentHash",
                        "only one of MinimumRingSize or Maglev/Ringhash can be specified"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {loadBalancer: {warmup: {minimumPercent: 101}}}\n"),
                        "spec.trafficPolicy.loadBalancer.warmup.duration", "duration is required"));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {loadBalancer: {warmup: {duration: 1s, aggression: 0.5}}}\n"),
                "spec.trafficPolicy.loadBalancer.warmup.aggression", "greater than or equal to 1"));
}

TEST(ValidateTrafficPolicyTest, Locality) {
  const std::string head =
      "host: a\ntrafficPolicy:\n  outlierDetection: {}\n  loadBalancer:\n    localityLbSetting:\n";
  EXPECT_TRUE(no_errors(dr(head + "      distribute: [{from: us/a/*, to: {us/a/*: 70, us/b/*: 30}}]\n")));
  EXPECT_TRUE(has_error(dr(head + "      distribute: [{from: us/a/*, to: {us/a/*: 70, us/b/*: 20}}]\n"),
                        "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to",
                        "total locality weight 90 != 100"));
  EXPECT_TRUE(has_error(dr(head + "      failover: [{from: us, to: us}]\n"),
                        "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]",
                        "different regions"));
  EXPECT_TRUE(has_error(dr(head + "      failover: [{from: us/a, to: eu}]\n"),
                        "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].from",
                        "only supports region"));
  EXPECT_TRUE(has_error(
      dr(head + "      failover: [{from: us, to: eu}]\n      distribute: [{from: us, to: {eu: 100}}]\n"),
      "spec.trafficPolicy.loadBalancer.localityLbSetting", "can not simultaneously set"));
  EXPECT_TRUE(has_warning(
      dr("host: a\ntrafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: us, to: eu}]}}}\n"),
      "spec.trafficPolicy.loadBalancer.localityLbSetting",
      "outlier detection policy must be provided for failover"));
}

TEST(ValidateTrafficPolicyTest, ConnectionPoolAndOutlier) {
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE, "
                           "useClientProtocol: true}}}\n"),
                        "spec.trafficPolicy.connectionPool.http.useClientProtocol", "must not be true"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {connectionPool: {tcp: {connectTimeout: 0s}}}\n"),
                        "spec.trafficPolicy.connectionPool.tcp.connectTimeout", "greater than 1ms"));
  EXPECT_TRUE(no_errors(dr("host: a\ntrafficPolicy: {connectionPool: {tcp: {idleTimeout: 0s}}}\n")));
  EXPECT_TRUE(rejected(dr("host: a\ntrafficPolicy: {connectionPool: {tcp: {maxConnections: -1}}}\n")));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {outlierDetection: {consecutiveLocalOriginFailures: 3}}\n"),
                "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures",
                "split external local origin errors is set to false"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {outlierDetection: {maxEjectionPercent: 101}}\n"),
                        "spec.trafficPolicy.outlierDetection.maxEjectionPercent", "not in range 0..100"));
  EXPECT_TRUE(has_warning(dr("host: a\ntrafficPolicy: {outlierDetection: {consecutiveErrors: 2}}\n"),
                          "spec.trafficPolicy.outlierDetection.consecutiveErrors", "deprecated"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {tls: {mode: MUTUAL}}\n"),
                        "spec.trafficPolicy.tls.clientCertificate", "client certificate required"));
}

}  // namespace
}  // namespace torii::config
