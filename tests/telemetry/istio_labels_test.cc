#include "telemetry/istio_labels.h"

#include <gtest/gtest.h>

#include "upstream/cluster_info.h"

namespace torii::telemetry {
namespace {

upstream::ClusterInfo cluster(std::string host) {
  upstream::ClusterInfo c;
  c.service_host = std::move(host);
  c.name = "outbound|80||" + c.service_host;
  return c;
}

upstream::Endpoint endpoint(std::string origin, std::map<std::string, std::string> labels) {
  upstream::Endpoint e;
  e.origin = std::move(origin);
  e.labels = std::move(labels);
  return e;
}

TEST(IstioLabelsTest, SourceLabelsDefaultToAStockIngressGateway) {
  GatewayIdentity id;
  const auto v = source_label_values(id);
  EXPECT_EQ(v[0], "istio-ingressgateway");  // source_workload
  EXPECT_EQ(v[1], "istio-ingressgateway");  // canonical service from the workload
  EXPECT_EQ(v[2], "latest");
  EXPECT_EQ(v[3], "istio-system");
  EXPECT_EQ(v[4], "unknown");  // principal
  EXPECT_EQ(v[5], "istio-ingressgateway");
  EXPECT_EQ(v[6], "unknown");
  EXPECT_EQ(v[7], "Kubernetes");
}

TEST(IstioLabelsTest, SourceLabelsFromTheGatewaysLabels) {
  GatewayIdentity id;
  id.labels = {{"app", "edge"}, {"version", "v2"}, {"service.istio.io/canonical-name", "edge-canon"}};
  const auto v = source_label_values(id);
  EXPECT_EQ(v[1], "edge-canon");
  EXPECT_EQ(v[2], "v2");
  EXPECT_EQ(v[5], "edge");
  EXPECT_EQ(v[6], "v2");
}

TEST(IstioLabelsTest, NoClusterUsesTheAuthority) {
  const DestinationLabels d = destination_labels(nullptr, nullptr, "shop.example.com");
  EXPECT_EQ(d.service, "shop.example.com");
  EXPECT_EQ(d.service_name, "shop.example.com");
  EXPECT_EQ(d.workload, "unknown");
  EXPECT_EQ(d.service_namespace, "unknown");
  EXPECT_EQ(d.canonical_revision, "latest");
}

TEST(IstioLabelsTest, KubernetesServiceWithoutEndpoint) {
  const auto c = cluster("httpbin.default.svc.cluster.local");
  const DestinationLabels d = destination_labels(&c, nullptr, "ignored");
  EXPECT_EQ(d.service, "httpbin.default.svc.cluster.local");
  EXPECT_EQ(d.service_name, "httpbin");
  EXPECT_EQ(d.workload, "unknown");
  EXPECT_EQ(d.app, "unknown");
}

TEST(IstioLabelsTest, ServiceEntryHostIsItsOwnName) {
  const auto c = cluster("api.example.com");
  EXPECT_EQ(destination_labels(&c, nullptr, "").service_name, "api.example.com");
}

TEST(IstioLabelsTest, WorkloadEntryEndpoint) {
  const auto c = cluster("echo.shop.svc.cluster.local");
  const auto e = endpoint("WorkloadEntry shop/echo-vm-1", {{"app", "echo"}, {"version", "v3"}});
  const DestinationLabels d = destination_labels(&c, &e, "");
  EXPECT_EQ(d.workload, "echo-vm-1");
  EXPECT_EQ(d.workload_namespace, "shop");
  EXPECT_EQ(d.service_namespace, "shop");
  EXPECT_EQ(d.app, "echo");
  EXPECT_EQ(d.version, "v3");
  EXPECT_EQ(d.canonical_service, "echo");
  EXPECT_EQ(d.canonical_revision, "v3");
}

TEST(IstioLabelsTest, DeploymentPodBelongsToItsDeployment) {
  const auto c = cluster("web.prod.svc.cluster.local");
  const auto e = endpoint("Pod prod/web-5d9c7b8f4-x2x7q", {{"pod-template-hash", "5d9c7b8f4"},
                                                           {"app.kubernetes.io/name", "web-ui"},
                                                           {"service.istio.io/canonical-revision", "r9"}});
  const DestinationLabels d = destination_labels(&c, &e, "");
  EXPECT_EQ(d.workload, "web");
  EXPECT_EQ(d.workload_namespace, "prod");
  EXPECT_EQ(d.canonical_service, "web-ui");
  EXPECT_EQ(d.canonical_revision, "r9");
  EXPECT_EQ(d.app, "unknown");
}

TEST(IstioLabelsTest, WorkloadNameLabelWins) {
  const auto c = cluster("web.prod.svc.cluster.local");
  const auto e = endpoint("Pod prod/bare-pod", {{"service.istio.io/workload-name", "named"}});
  EXPECT_EQ(destination_labels(&c, &e, "").workload, "named");
  const auto bare = endpoint("Pod prod/bare-pod", {});
  EXPECT_EQ(destination_labels(&c, &bare, "").workload, "bare-pod");  // no owner: itself
}

TEST(IstioLabelsTest, InlineServiceEntryEndpointHasNoWorkload) {
  const auto c = cluster("api.example.com");
  const auto e = endpoint("ServiceEntry ops/api", {});
  const DestinationLabels d = destination_labels(&c, &e, "");
  EXPECT_EQ(d.workload, "unknown");
  EXPECT_EQ(d.workload_namespace, "unknown");
}

}  // namespace
}  // namespace torii::telemetry
