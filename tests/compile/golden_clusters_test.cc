// Golden tests for destinations: port selection, subsets, endpoints
// (ISTIO_SEMANTICS §3.5, §5.1, §6, Appendix B.9).
#include <gtest/gtest.h>

#include <algorithm>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

class GoldenClusters : public ::testing::Test {
 protected:
  GoldenClusters() { r.gateway("istio-system", "gw", {server(80, {"*"})}); }

  // a.com routes everything to `destination`.
  void route_to(config::HTTPRouteDestination destination, const std::string& ns = "default") {
    const std::string n = std::to_string(++vs_count_);
    r.virtual_service(ns, "vs-" + n, {"a" + n + ".com"}, {"istio-system/gw"},
                      {rule({}, {std::move(destination)})});
  }

  // The cluster the n-th route_to() call's host reaches.
  const router::WeightedCluster& picked(const Compiled& c, int n = 1) {
    const router::Route* route = c.route(Request("a" + std::to_string(n) + ".com", "/"));
    EXPECT_NE(route, nullptr) << "no route for a" << n << ".com";
    static const router::WeightedCluster kNone{"<no route>", nullptr, 0};
    return route == nullptr ? kNone : route->action.pick(0);
  }

  static std::vector<std::string> addresses(const upstream::ClusterInfo& cluster) {
    std::vector<std::string> out;
    for (const auto& e : cluster.endpoints) out.push_back(e.address + ":" + std::to_string(e.port));
    return out;
  }

  Resources r;
  int vs_count_ = 0;
};

TEST_F(GoldenClusters, SinglePortServiceNeedsNoDestinationPort) {
  r.service("default", "httpbin", {service_port("http", 8000, 80)}, Labels{{"app", "httpbin"}});
  r.pod("default", "httpbin-1", "10.0.0.1", {{"app", "httpbin"}});
  route_to(dest("httpbin"));
  Compiled c(r.set);
  const auto& wc = picked(c);
  EXPECT_EQ(wc.name, "outbound|8000||httpbin.default.svc.cluster.local");
  ASSERT_NE(wc.cluster, nullptr);
  EXPECT_EQ(wc.cluster->service_host, "httpbin.default.svc.cluster.local");
  EXPECT_EQ(wc.cluster->port, 8000u);
  EXPECT_EQ(addresses(*wc.cluster), (std::vector<std::string>{"10.0.0.1:80"}));  // targetPort
  EXPECT_EQ(wc.cluster->endpoints[0].origin, "Pod default/httpbin-1");
}

TEST_F(GoldenClusters, B9_MultiPortServiceWithoutDestinationPortUsesTheGatewayPort) {
  r.service("default", "multi", {service_port("http", 8000), service_port("admin", 9000)},
            Labels{{"app", "m"}});
  route_to(dest("multi"));
  Compiled c(r.set);
  const auto& wc = picked(c);
  EXPECT_EQ(wc.name, "outbound|80||multi.default.svc.cluster.local");
  EXPECT_EQ(wc.cluster, nullptr);  // => 503 NC
  EXPECT_TRUE(c.has_diagnostic("has no port 80")) << c.all_diagnostics();
}

TEST_F(GoldenClusters, B9_MultiPortServiceThatHasTheGatewayPort) {
  r.service("default", "multi", {service_port("http", 80), service_port("admin", 9000)},
            Labels{{"app", "m"}});
  route_to(dest("multi"));
  route_to(dest("multi", 9000));
  Compiled c(r.set);
  EXPECT_NE(picked(c, 1).cluster, nullptr);
  EXPECT_EQ(picked(c, 1).name, "outbound|80||multi.default.svc.cluster.local");
  EXPECT_EQ(picked(c, 2).name, "outbound|9000||multi.default.svc.cluster.local");
  EXPECT_NE(picked(c, 2).cluster, nullptr);
}

TEST_F(GoldenClusters, ExplicitPortTheServiceDoesNotHave) {
  r.service("default", "httpbin", {service_port("http", 8000)});
  route_to(dest("httpbin", 1234));
  Compiled c(r.set);
  EXPECT_EQ(picked(c).name, "outbound|1234||httpbin.default.svc.cluster.local");
  EXPECT_EQ(picked(c).cluster, nullptr);
}

TEST_F(GoldenClusters, UnknownHostHasNoCluster) {
  route_to(dest("nowhere.example.com"));
  Compiled c(r.set);
  EXPECT_EQ(picked(c).name, "outbound|80||nowhere.example.com");
  EXPECT_EQ(picked(c).cluster, nullptr);
  EXPECT_TRUE(c.snapshot().clusters.empty());
}

TEST_F(GoldenClusters, EndpointSliceWithPodLabelsFeedsSubsets) {
  r.service("default", "reviews", {service_port("http", 9080)}, Labels{{"app", "reviews"}});
  r.pod("default", "reviews-v1", "10.1.0.1", {{"app", "reviews"}, {"version", "v1"}});
  r.pod("default", "reviews-v2", "10.1.0.2", {{"app", "reviews"}, {"version", "v2"}});
  r.pod("default", "reviews-v2b", "10.1.0.3", {{"app", "reviews"}, {"version", "v2"}});
  // Ports are picked by name; the pod of the 2nd endpoint is found by IP (no targetRef);
  // the not-ready endpoint is left out.
  r.endpoint_slice("default", "reviews-abc", "reviews", {{"http", 9080}, {"metrics", 15090}},
                   {"10.1.0.1", "10.1.0.2", "10.1.0.3"}, {"reviews-v1"}, {true, true, false});
  r.destination_rule(
      "default", "reviews", "reviews",
      {{"v1", {{"version", "v1"}}}, {"v2", {{"version", "v2"}}}, {"none", {{"version", "v9"}}}});
  route_to(dest("reviews", 0, "v1"));
  route_to(dest("reviews", 0, "v2"));
  route_to(dest("reviews", 0, "none"));
  route_to(dest("reviews"));
  route_to(dest("reviews", 0, "missing"));
  Compiled c(r.set);

  const auto& v1 = picked(c, 1);
  EXPECT_EQ(v1.name, "outbound|9080|v1|reviews.default.svc.cluster.local");
  ASSERT_NE(v1.cluster, nullptr);
  EXPECT_EQ(v1.cluster->subset, "v1");
  EXPECT_EQ(addresses(*v1.cluster), (std::vector<std::string>{"10.1.0.1:9080"}));
  EXPECT_EQ(v1.cluster->endpoints[0].origin, "EndpointSlice default/reviews-abc");
  EXPECT_EQ(v1.cluster->endpoints[0].labels.at("version"), "v1");

  EXPECT_EQ(addresses(*picked(c, 2).cluster), (std::vector<std::string>{"10.1.0.2:9080"}));
  // Subset defined, no endpoint carries its labels: the cluster exists, empty (503 UH).
  ASSERT_NE(picked(c, 3).cluster, nullptr);
  EXPECT_TRUE(picked(c, 3).cluster->endpoints.empty());
  // The whole service.
  EXPECT_EQ(addresses(*picked(c, 4).cluster), (std::vector<std::string>{"10.1.0.1:9080", "10.1.0.2:9080"}));
  // A subset no DestinationRule defines: no cluster (503 NC).
  EXPECT_EQ(picked(c, 5).name, "outbound|9080|missing|reviews.default.svc.cluster.local");
  EXPECT_EQ(picked(c, 5).cluster, nullptr);
  EXPECT_TRUE(c.has_diagnostic("subset missing is not defined")) << c.all_diagnostics();
}

TEST_F(GoldenClusters, EndpointSlicesReplacePodSelection) {
  // With a slice present, pods matching the selector are not added on their own.
  r.service("default", "svc", {service_port("", 80, 8080)}, Labels{{"app", "svc"}});
  r.pod("default", "svc-1", "10.2.0.1", {{"app", "svc"}});
  r.pod("default", "svc-2", "10.2.0.2", {{"app", "svc"}});
  r.endpoint_slice("default", "svc-x", "svc", {{"", 8080}}, {"10.2.0.2"});
  route_to(dest("svc"));
  Compiled c(r.set);
  EXPECT_EQ(addresses(*picked(c).cluster), (std::vector<std::string>{"10.2.0.2:8080"}));
}

TEST_F(GoldenClusters, PodsStandInForMissingEndpointSlices) {
  config::ServicePort named = service_port("http", 80);
  named.target_port_name = "web";
  r.service("default", "svc", {named}, Labels{{"app", "svc"}});
  auto& p1 = r.pod("default", "svc-1", "10.2.0.1", {{"app", "svc"}, {"extra", "x"}});
  p1.container_ports = {{"web", 8081}};
  r.pod("default", "svc-2", "10.2.0.2", {{"app", "svc"}});  // no container port "web": left out
  auto& p3 = r.pod("default", "svc-3", "10.2.0.3", {{"app", "svc"}}, /*ready=*/false);
  p3.container_ports = {{"web", 8081}};
  auto& p4 = r.pod("other", "svc-4", "10.2.0.4", {{"app", "svc"}});  // other namespace
  p4.container_ports = {{"web", 8081}};
  route_to(dest("svc"));
  Compiled c(r.set);
  EXPECT_EQ(addresses(*picked(c).cluster), (std::vector<std::string>{"10.2.0.1:8081"}));
}

TEST_F(GoldenClusters, EndpointSlicesAreMatchedByServiceNamespaceAndPortName) {
  r.service("default", "svc", {service_port("http", 80), service_port("grpc", 90)});
  r.endpoint_slice("default", "svc-a", "svc", {{"grpc", 9090}}, {"10.3.0.1"});  // no "http" port
  r.endpoint_slice("other", "svc-b", "svc", {{"http", 8080}}, {"10.3.0.2"});    // other namespace
  r.endpoint_slice("default", "svc-c", "svc", {{"http", 8080}, {"grpc", 9090}}, {"10.3.0.3"});
  route_to(dest("svc", 80));
  route_to(dest("svc", 90));
  Compiled c(r.set);
  EXPECT_EQ(addresses(*picked(c, 1).cluster), (std::vector<std::string>{"10.3.0.3:8080"}));
  EXPECT_EQ(addresses(*picked(c, 2).cluster), (std::vector<std::string>{"10.3.0.1:9090", "10.3.0.3:9090"}));
}

TEST_F(GoldenClusters, ConvertedEndpointsOnlyWithoutRealSlices) {
  r.service("default", "both", {service_port("http", 80)});
  auto& converted = r.endpoint_slice("default", "both", "both", {{"http", 8080}}, {"10.4.0.1"});
  converted.from_endpoints = true;
  r.endpoint_slice("default", "both-abcde", "both", {{"http", 8080}}, {"10.4.0.1"});
  r.service("default", "legacy", {service_port("http", 80)});
  auto& only = r.endpoint_slice("default", "legacy", "legacy", {{"", 8080}}, {"10.4.0.2"});
  only.from_endpoints = true;
  route_to(dest("both"));
  route_to(dest("legacy"));
  Compiled c(r.set);
  EXPECT_EQ(addresses(*picked(c, 1).cluster), (std::vector<std::string>{"10.4.0.1:8080"}));  // not twice
  EXPECT_EQ(picked(c, 1).cluster->endpoints[0].origin, "EndpointSlice default/both-abcde");
  EXPECT_EQ(addresses(*picked(c, 2).cluster), (std::vector<std::string>{"10.4.0.2:8080"}));
  EXPECT_EQ(picked(c, 2).cluster->endpoints[0].origin, "Endpoints default/legacy");
}

TEST_F(GoldenClusters, ExternalNameServiceHasNoEndpointsYet) {
  auto& svc = r.service("default", "ext", {service_port("http", 80)});
  svc.type = "ExternalName";
  svc.external_name = "api.example.com";
  route_to(dest("ext"));
  Compiled c(r.set);
  ASSERT_NE(picked(c).cluster, nullptr);
  EXPECT_TRUE(picked(c).cluster->endpoints.empty());
  EXPECT_TRUE(c.has_diagnostic("notice: Service default/ext: spec.externalName")) << c.all_diagnostics();
}

TEST_F(GoldenClusters, ServiceWithoutSelectorOnlyUsesSlices) {
  r.service("default", "manual", {service_port("http", 80)});
  r.pod("default", "p", "10.2.0.1", {{"app", "manual"}});
  route_to(dest("manual"));
  Compiled c(r.set);
  ASSERT_NE(picked(c).cluster, nullptr);
  EXPECT_TRUE(picked(c).cluster->endpoints.empty());
}

TEST_F(GoldenClusters, WorkloadEntryPortOverrideByServicePortName) {
  r.service("default", "vm", {service_port("http", 80, 8080), service_port("grpc", 9090)},
            Labels{{"app", "vm"}});
  auto& we1 = r.workload_entry("default", "vm-1", "192.168.1.10", {{"app", "vm"}, {"version", "v1"}},
                               {{"http", 18080}});
  we1.locality = "us-east1/b";
  we1.weight = 5;
  r.workload_entry("default", "vm-2", "192.168.1.11", {{"app", "vm"}});
  r.workload_entry("default", "not-selected", "192.168.1.12", {{"app", "other"}});
  r.workload_entry("elsewhere", "other-ns", "192.168.1.13", {{"app", "vm"}});
  route_to(dest("vm", 80));
  route_to(dest("vm", 9090));
  Compiled c(r.set);
  const auto* http = picked(c, 1).cluster;
  ASSERT_NE(http, nullptr);
  // ports[service port name] > targetPort > port.
  EXPECT_EQ(addresses(*http), (std::vector<std::string>{"192.168.1.10:18080", "192.168.1.11:8080"}));
  EXPECT_EQ(http->endpoints[0].locality, "us-east1/b");
  EXPECT_EQ(http->endpoints[0].weight, 5u);
  EXPECT_EQ(http->endpoints[1].weight, 1u);
  EXPECT_EQ(http->endpoints[0].origin, "WorkloadEntry default/vm-1");
  EXPECT_EQ(addresses(*picked(c, 2).cluster),
            (std::vector<std::string>{"192.168.1.10:9090", "192.168.1.11:9090"}));
}

TEST_F(GoldenClusters, NonIpAddressesAreSkippedWithAWarning) {
  r.service("default", "vm", {service_port("http", 80)}, Labels{{"app", "vm"}});
  r.workload_entry("default", "by-name", "vm.example.com", {{"app", "vm"}});
  r.workload_entry("default", "by-ip", "192.168.1.10", {{"app", "vm"}});
  route_to(dest("vm"));
  Compiled c(r.set);
  EXPECT_EQ(addresses(*picked(c).cluster), (std::vector<std::string>{"192.168.1.10:80"}));
  EXPECT_TRUE(c.has_diagnostic("WorkloadEntry default/by-name: spec.address")) << c.all_diagnostics();
}

TEST_F(GoldenClusters, ServiceEntryStaticEndpoints) {
  config::Port https{443, "HTTPS", "https", 0};
  config::Port http{80, "HTTP", "http", 8080};
  auto& se = r.service_entry("egress", "api", {"api.example.com"}, {http, https});
  config::WorkloadEntry e1;
  e1.address = "203.0.113.1";
  e1.ports = {{"https", 8443}};
  e1.labels = {{"pool", "a"}};
  config::WorkloadEntry e2;
  e2.address = "2001:db8::1";
  se.endpoints = {e1, e2};
  route_to(dest("api.example.com", 443), "egress");
  route_to(dest("api.example.com", 80), "egress");
  Compiled c(r.set);
  EXPECT_EQ(picked(c, 1).name, "outbound|443||api.example.com");
  // ports[name] > targetPort > number.
  EXPECT_EQ(addresses(*picked(c, 1).cluster),
            (std::vector<std::string>{"203.0.113.1:8443", "2001:db8::1:443"}));
  EXPECT_EQ(addresses(*picked(c, 2).cluster),
            (std::vector<std::string>{"203.0.113.1:8080", "2001:db8::1:8080"}));
  EXPECT_EQ(picked(c, 1).cluster->endpoints[0].origin, "ServiceEntry egress/api");
}

TEST_F(GoldenClusters, ServiceEntryWorkloadSelector) {
  config::Port http{80, "HTTP", "http", 0};
  auto& se = r.service_entry("vms", "app", {"app.internal"}, {http});
  se.workload_selector = Labels{{"app", "vm"}};
  r.workload_entry("vms", "vm-1", "192.168.0.1", {{"app", "vm"}}, {{"http", 8000}});
  r.workload_entry("other", "vm-2", "192.168.0.2", {{"app", "vm"}});
  r.pod("vms", "pod-1", "10.9.0.1", {{"app", "vm"}});
  route_to(dest("app.internal"), "vms");
  Compiled c(r.set);
  EXPECT_EQ(addresses(*picked(c).cluster), (std::vector<std::string>{"192.168.0.1:8000", "10.9.0.1:80"}));
}

TEST_F(GoldenClusters, ServiceEntryResolutionNoneIsAnEmptyCluster) {
  // B.23: the classic egress SE with hosts only => 503 "no healthy upstream".
  config::Port https{443, "TLS", "tls", 0};
  r.service_entry("egress", "wiki", {"en.wikipedia.org"}, {https}, "NONE");
  route_to(dest("en.wikipedia.org"), "egress");
  Compiled c(r.set);
  ASSERT_NE(picked(c).cluster, nullptr);
  EXPECT_TRUE(picked(c).cluster->endpoints.empty());
}

TEST_F(GoldenClusters, ServiceEntryDnsEndpointsAreTheirNamesAnswers) {
  // Envoy STRICT_DNS: every address of every name is an endpoint; IPs stay as written.
  config::Port http{80, "HTTP", "http", 0};
  auto& se = r.service_entry("egress", "dns", {"svc.example.com"}, {http}, "DNS");
  config::WorkloadEntry by_name;
  by_name.address = "Backend.example.com";
  by_name.ports = {{"http", 8080}};
  by_name.labels = {{"zone", "a"}};
  config::WorkloadEntry by_ip;
  by_ip.address = "198.51.100.7";
  se.endpoints = {by_name, by_ip};
  r.service_entry("egress", "dns-only", {"other.example.com"}, {http}, "DNS");
  route_to(dest("svc.example.com"), "egress");
  route_to(dest("other.example.com"), "egress");

  Compiled before(r.set);
  EXPECT_EQ(before.result.dns_names, (std::set<std::string>{"backend.example.com", "other.example.com"}));
  EXPECT_EQ(addresses(*picked(before, 1).cluster), (std::vector<std::string>{"198.51.100.7:80"}));
  EXPECT_TRUE(picked(before, 2).cluster->endpoints.empty());
  EXPECT_EQ(before.all_diagnostics(), "");

  DnsAnswers dns{{"backend.example.com", {"192.0.2.1", "192.0.2.2"}}, {"other.example.com", {"192.0.2.9"}}};
  Compiled after(r.set, {}, dns);
  const auto& eps = picked(after, 1).cluster->endpoints;
  EXPECT_EQ(addresses(*picked(after, 1).cluster),
            (std::vector<std::string>{"192.0.2.1:8080", "192.0.2.2:8080", "198.51.100.7:80"}));
  EXPECT_EQ(eps[0].hostname, "backend.example.com");
  EXPECT_EQ(eps[0].labels, (Labels{{"zone", "a"}}));
  EXPECT_EQ(eps[2].hostname, "");
  // Without endpoints the host itself is resolved, on the service port.
  EXPECT_EQ(addresses(*picked(after, 2).cluster), (std::vector<std::string>{"192.0.2.9:80"}));
}

TEST_F(GoldenClusters, ServiceEntryDnsRoundRobinIsOneLogicalHost) {
  // Envoy LOGICAL_DNS: only the first endpoint, one address of it.
  config::Port http{80, "HTTP", "http", 0};
  auto& se = r.service_entry("egress", "rr", {"svc.example.com"}, {http}, "DNS_ROUND_ROBIN");
  config::WorkloadEntry first;
  first.address = "a.example.com";
  config::WorkloadEntry second;
  second.address = "b.example.com";
  se.endpoints = {first, second};
  route_to(dest("svc.example.com"), "egress");
  DnsAnswers dns{{"a.example.com", {"192.0.2.1", "192.0.2.2"}}, {"b.example.com", {"192.0.2.3"}}};
  Compiled c(r.set, {}, dns);
  EXPECT_EQ(c.result.dns_names, (std::set<std::string>{"a.example.com"}));
  EXPECT_EQ(addresses(*picked(c).cluster), (std::vector<std::string>{"192.0.2.1:80"}));
}

TEST_F(GoldenClusters, KubernetesServiceWinsOverServiceEntryWithTheSameHost) {
  r.service("default", "httpbin", {service_port("http", 8000)}, Labels{{"app", "httpbin"}});
  r.pod("default", "httpbin-1", "10.0.0.1", {{"app", "httpbin"}});
  config::Port http{8000, "HTTP", "http", 0};
  auto& se = r.service_entry("default", "shadow", {"httpbin.default.svc.cluster.local"}, {http});
  config::WorkloadEntry e;
  e.address = "203.0.113.9";
  se.endpoints = {e};
  route_to(dest("httpbin"));
  Compiled c(r.set);
  EXPECT_EQ(addresses(*picked(c).cluster), (std::vector<std::string>{"10.0.0.1:8000"}));
}

TEST_F(GoldenClusters, HiddenServiceEntryIsNotRoutable) {
  config::Port http{80, "HTTP", "http", 0};
  auto& se = r.service_entry("egress", "private", {"private.example.com"}, {http});
  se.export_to = {"."};
  route_to(dest("private.example.com"), "egress");
  Compiled c(r.set);
  EXPECT_EQ(picked(c).cluster, nullptr);
}

TEST_F(GoldenClusters, OnlyReferencedClustersAreBuiltWithDenseIndexes) {
  r.service("default", "a", {service_port("http", 80)});
  r.service("default", "b", {service_port("http", 80)});
  r.service("default", "unused", {service_port("http", 80)});
  r.destination_rule("default", "a", "a", {{"v1", {}}, {"v2", {}}});
  route_to(dest("a", 0, "v1"));
  route_to(dest("b"));
  route_to(dest("a", 0, "v1"));  // same cluster again: shared
  Compiled c(r.set);
  const Snapshot& s = c.snapshot();
  ASSERT_EQ(s.clusters.size(), 2u);
  for (size_t i = 0; i < s.clusters.size(); ++i) {
    EXPECT_EQ(s.clusters[i]->index, i);
    EXPECT_EQ(s.find_cluster(s.clusters[i]->name), s.clusters[i].get());
  }
  EXPECT_EQ(s.clusters_by_name.size(), 2u);
  EXPECT_EQ(picked(c, 1).cluster, picked(c, 3).cluster);
  EXPECT_EQ(s.find_cluster("outbound|80||unused.default.svc.cluster.local"), nullptr);
  EXPECT_EQ(s.find_cluster("outbound|80|v2|a.default.svc.cluster.local"), nullptr);
}

TEST_F(GoldenClusters, SubsetFromDestinationRuleInTheGatewayNamespace) {
  // §5.1 step 1: the gateway namespace's DR decides the subsets.
  r.service("default", "svc", {service_port("http", 80)}, Labels{{"app", "svc"}});
  r.pod("default", "p1", "10.0.0.1", {{"app", "svc"}, {"track", "canary"}});
  r.pod("default", "p2", "10.0.0.2", {{"app", "svc"}, {"track", "stable"}});
  r.destination_rule("default", "svc-ns", "svc", {{"canary", {{"track", "stable"}}}});
  r.destination_rule("istio-system", "gw-ns", "svc.default.svc.cluster.local",
                     {{"canary", {{"track", "canary"}}}});
  route_to(dest("svc", 0, "canary"));
  GatewayIdentity identity;
  identity.namespace_ = "istio-system";
  identity.root_namespace = "istio-config";  // so istio-system is an ordinary namespace here
  Compiled c(r.set, identity);
  EXPECT_EQ(addresses(*picked(c).cluster), (std::vector<std::string>{"10.0.0.1:80"}));
}

}  // namespace
}  // namespace torii::compile
