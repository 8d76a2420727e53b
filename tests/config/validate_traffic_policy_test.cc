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
                        "duplicate cookie attribute name: Secure"));
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
  // istiod: aggression > 0 (a DoubleValue); the CRD: minimumPercent >= 0.
  EXPECT_TRUE(
      no_errors(dr("host: a\ntrafficPolicy: {loadBalancer: {warmup: {duration: 1s, aggression: 0.5}}}\n")));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {loadBalancer: {warmup: {duration: 1s, aggression: 0}}}\n"),
                "spec.trafficPolicy.loadBalancer.warmup.aggression", "aggression should be greater than 0"));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {loadBalancer: {warmup: {duration: 1s, minimumPercent: -1}}}\n"),
                "spec.trafficPolicy.loadBalancer.warmup.minimumPercent", "greater than or equal to 0"));
}

TEST(ValidateTrafficPolicyTest, Locality) {
  const std::string head =
      "host: a\ntrafficPolicy:\n  outlierDetection: {}\n  loadBalancer:\n    localityLbSetting:\n";
  const std::string field = "spec.trafficPolicy.loadBalancer.localityLbSetting";
  struct Case {
    const char* setting;  // lines under localityLbSetting
    const char* field;    // below `field`
    const char* error;
  };
  const Case cases[] = {
      {"distribute: [{from: us/a/*, to: {us/a/*: 70, us/b/*: 20}}]", ".distribute[0].to",
       "total locality weight 90 != 100"},
      {"failover: [{from: us, to: us}]", ".failover[0]", "different regions"},
      {"failover: [{from: us/a, to: eu}]", ".failover[0]", "locality lb failover only specify region"},
      {"failover: [{from: us, to: \"eu*\"}]", ".failover[0]",
       "locality lb failover region should not contain '*' wildcard"},
      {"failover: [{from: us, to: eu}]\ndistribute: [{from: us, to: {eu: 100}}]", "",
       "can not simultaneously specify"},
      // istiod validateLocalities: overlaps, wildcard placement, empty parts.
      {"distribute: [{from: us, to: {eu: 100}}, {from: us/a, to: {eu: 100}}]", ".distribute",
       "locality us/a overlap with previous specified ones"},
      {"distribute: [{from: us, to: {\"eu/*/x\": 100}}]", ".distribute[0].to",
       "wildcard '*' number can not exceed 1 and must be in the end"},
      {"distribute: [{from: \"us//a\", to: {eu: 100}}]", ".distribute",
       "must not contain empty region/zone/subzone info"},
      // failoverPriority conflicts with exact topology label names only.
      {"failover: [{from: us, to: eu}]\nfailoverPriority: [topology.kubernetes.io/region]",
       ".failoverPriority", "can not simultaneously set 'failover' and topology label"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(
        has_error(dr(head + testing::indent(std::string(c.setting) + "\n", 6)), field + c.field, c.error))
        << c.setting;
  }
  // Accepted, as by istiod (Torii refused the middle three before).
  for (const char* setting :
       {"distribute: [{from: us/a/*, to: {us/a/*: 70, us/b/*: 30}}]",
        "distribute: [{from: \"us/zo*\", to: {\"us/a/b/c\": 100}}]", "failover: [{from: \"\", to: eu}]",
        "failover: [{from: us, to: eu}]\nfailoverPriority: [\"topology.kubernetes.io/region=us\"]"}) {
    EXPECT_TRUE(no_errors(dr(head + testing::indent(std::string(setting) + "\n", 6)))) << setting;
  }
  EXPECT_TRUE(has_warning(
      dr("host: a\ntrafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: us, to: eu}]}}}\n"),
      field, "outlier detection policy must be provided for failover"));
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

TEST(ValidateTrafficPolicyTest, PortLevelPort) {
  // istiod requires `port`; a port 0 is accepted but never applies (Torii says so).
  const LoadResult zero = dr(
      "host: a\ntrafficPolicy: {portLevelSettings: [{port: {number: 0}, loadBalancer: {simple: RANDOM}}]}\n");
  EXPECT_TRUE(no_errors(zero));
  EXPECT_TRUE(has_warning(zero, "spec.trafficPolicy.portLevelSettings[0].port", "never applies"));
}

TEST(ValidateTrafficPolicyTest, Http2KeepAlive) {
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {connectionPool: {http: {http2KeepAlive: {timeout: 1s}}}}\n"),
                "spec.trafficPolicy.connectionPool.http.http2KeepAlive.interval",
                "http2 keepalive interval is required"));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {connectionPool: {http: {http2KeepAlive: {interval: 1s}}}}\n"),
                "spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout",
                "http2 keepalive timeout is required"));
}

TEST(ValidateTrafficPolicyTest, FieldsToriiDoesNotImplement) {
  // Valid as istiod says, then ignored with a warning (retryBudget alone used to be "no field").
  const LoadResult budget = dr("host: a\ntrafficPolicy: {retryBudget: {percent: 20}}\n");
  EXPECT_TRUE(no_errors(budget));
  EXPECT_TRUE(has_warning(budget, "spec.trafficPolicy.retryBudget", "not implemented by Torii"));
  const LoadResult tunnel =
      dr("host: a\ntrafficPolicy: {tunnel: {protocol: POST, targetHost: proxy.example.com, targetPort: "
         "8080}}\n");
  EXPECT_TRUE(no_errors(tunnel));
  EXPECT_TRUE(has_warning(tunnel, "spec.trafficPolicy.tunnel", "not implemented by Torii"));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {tunnel: {protocol: GET, targetHost: p.com, targetPort: 80}}\n"),
                "spec.trafficPolicy.tunnel.protocol", "tunnel protocol must be \"CONNECT\" or \"POST\""));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {tunnel: {targetHost: \"a b\", targetPort: 80}}\n"),
                        "spec.trafficPolicy.tunnel.targetHost",
                        "tunnel target host must be valid FQDN or IP address"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {tunnel: {targetHost: 10.0.0.1}}\n"),
                        "spec.trafficPolicy.tunnel.targetPort", "tunnel target port is invalid"));
  const LoadResult proxy = dr("host: a\ntrafficPolicy: {proxyProtocol: {version: V2}}\n");
  EXPECT_TRUE(no_errors(proxy));
  EXPECT_TRUE(has_warning(proxy, "spec.trafficPolicy.proxyProtocol", "not implemented by Torii"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {proxyProtocol: {version: V3}}\n"),
                        "spec.trafficPolicy.proxyProtocol.version", "proxy protocol version is invalid"));
  EXPECT_TRUE(has_error(
      dr("host: a\ntrafficPolicy: {proxyProtocol: {}, tunnel: {targetHost: a.com, targetPort: 1}}\n"),
      "spec.trafficPolicy", "tunnel and proxyProtocol must not be set together"));
  const std::string zone =
      "host: a\ntrafficPolicy:\n  outlierDetection: {}\n  loadBalancer:\n    zoneAwareLbSetting:\n";
  const LoadResult zone_ok = dr(zone + "      failover: [{from: us, to: eu}]\n");
  EXPECT_TRUE(no_errors(zone_ok));
  EXPECT_TRUE(
      has_warning(zone_ok, "spec.trafficPolicy.loadBalancer.zoneAwareLbSetting", "not implemented by Torii"));
  EXPECT_TRUE(has_error(dr(zone + "      failoverPriority: [topology.kubernetes.io/zone]\n"),
                        "spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failoverPriority",
                        "'failover_priority' for zone aware lb must not use topology label"));
  EXPECT_TRUE(has_error(dr(zone + "      failover: [{from: us/a, to: eu}]\n"),
                        "spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failover[0]",
                        "zone aware lb failover only specifies region"));
  EXPECT_TRUE(has_error(
      dr("host: a\ntrafficPolicy: {loadBalancer: {localityLbSetting: {}, zoneAwareLbSetting: {}}}\n"),
      "spec.trafficPolicy.loadBalancer", "only one of localityLbSetting and zoneAwareLbSetting can be set"));
}

TEST(ValidateTrafficPolicyTest, ClientTls) {
  EXPECT_TRUE(has_error(
      dr("host: a\ntrafficPolicy: {tls: {mode: SIMPLE, insecureSkipVerify: true, caCertificates: /ca}}\n"),
      "spec.trafficPolicy.tls",
      "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify"));
  EXPECT_TRUE(has_error(dr("host: a\ntrafficPolicy: {tls: {mode: MUTUAL, insecureSkipVerify: true, "
                           "clientCertificate: /c, privateKey: /k, subjectAltNames: [a]}}\n"),
                        "spec.trafficPolicy.tls", "cannot specify CaCertificates or SubjectAltNames"));
  EXPECT_TRUE(
      has_error(dr("host: a\ntrafficPolicy: {tls: {mode: SIMPLE, credentialName: c, caCertificates: /ca}}\n"),
                "spec.trafficPolicy.tls",
                "cannot specify client certificates or CA certificate or CA CRL If credentialName is set"));
  EXPECT_TRUE(
      no_errors(dr("host: a\ntrafficPolicy: {tls: {mode: SIMPLE, credentialName: \"configmap://ca\"}}\n")));
  EXPECT_TRUE(has_error(
      dr("host: a\ntrafficPolicy: {tls: {mode: SIMPLE, credentialName: \"configmap://other/ca\"}}\n"),
      "spec.trafficPolicy.tls.credentialName", "namespace must match the configuration namespace \"ns\""));
  const LoadResult crl = dr("host: a\ntrafficPolicy: {tls: {mode: SIMPLE, caCrl: /crl}}\n");
  EXPECT_TRUE(no_errors(crl));
  EXPECT_TRUE(has_warning(crl, "spec.trafficPolicy.tls.caCrl", "not implemented by Torii"));
}

}  // namespace
}  // namespace torii::config
