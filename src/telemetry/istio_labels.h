// The label values of Istio's standard metrics at a gateway (reporter
// "source"): who the gateway is (source_*, fixed for the process, from
// `torii run` flags) and who the upstream is (destination_*, from the
// cluster and the endpoint a request actually used).
// See ISTIO_TELEMETRY.md 1.3 and docs/metrics.md.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>

namespace torii::upstream {
struct ClusterInfo;
struct Endpoint;
}  // namespace torii::upstream

namespace torii::telemetry {

// The gateway's identity; defaults are a stock `istio-ingressgateway`.
struct GatewayIdentity {
  std::string workload = "istio-ingressgateway";    // --workload-name (the Deployment)
  std::string workload_namespace = "istio-system";  // --namespace
  std::string cluster_id = "Kubernetes";            // --cluster-id (istiod's CLUSTER_ID)
  std::map<std::string, std::string> labels;        // --labels (app, version, canonical-*)
};

// The 9 source_* label values, in Istio's order: source_workload,
// source_canonical_service, source_canonical_revision,
// source_workload_namespace, source_principal, source_app, source_version,
// source_cluster (and reporter before them).
std::array<std::string, 8> source_label_values(const GatewayIdentity& identity);

// Destination label values, views into the cluster/endpoint (or the
// authority, or static strings): valid while those live.
struct DestinationLabels {
  std::string_view workload = "unknown";
  std::string_view workload_namespace = "unknown";
  std::string_view app = "unknown";
  std::string_view version = "unknown";
  std::string_view service = "unknown";
  std::string_view canonical_service = "unknown";
  std::string_view canonical_revision = "latest";
  std::string_view service_name = "unknown";
  std::string_view service_namespace = "unknown";
};
inline constexpr size_t kDestinationLabelCount = 9;

// No cluster (404 NR, 503 NC): service = the request's authority.
// Without an endpoint (UH, UO, fault...): workload labels stay "unknown".
// No allocation.
DestinationLabels destination_labels(const upstream::ClusterInfo* cluster, const upstream::Endpoint* endpoint,
                                     std::string_view authority);

}  // namespace torii::telemetry
