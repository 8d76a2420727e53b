#include "telemetry/istio_labels.h"

#include "upstream/cluster_info.h"

namespace torii::telemetry {

namespace {

std::string label_or(const std::map<std::string, std::string>& labels,
                     std::initializer_list<const char*> keys, const std::string& fallback) {
  for (const char* key : keys) {
    auto it = labels.find(key);
    if (it != labels.end() && !it->second.empty()) return it->second;
  }
  return fallback;
}

// "Pod ns/name" -> kind "Pod", namespace "ns", name "name".
struct Origin {
  std::string_view kind;
  std::string_view ns;
  std::string_view name;
};

Origin parse_origin(std::string_view origin) {
  Origin o;
  const size_t space = origin.find(' ');
  if (space == std::string_view::npos) return o;
  o.kind = origin.substr(0, space);
  const std::string_view rest = origin.substr(space + 1);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return o;
  o.ns = rest.substr(0, slash);
  o.name = rest.substr(slash + 1);
  return o;
}

}  // namespace

std::array<std::string, 8> source_label_values(const GatewayIdentity& id) {
  const auto& l = id.labels;
  // The injector's defaults for the canonical labels (ISTIO_TELEMETRY.md 1.3).
  const std::string canonical_service =
      label_or(l, {"service.istio.io/canonical-name", "app.kubernetes.io/name", "app"}, id.workload);
  const std::string canonical_revision =
      label_or(l, {"service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"}, "latest");
  return {id.workload,
          canonical_service,
          canonical_revision,
          id.workload_namespace,
          "unknown",                          // source_principal: no Istio mTLS to upstreams
          label_or(l, {"app"}, id.workload),  // a stock gateway's app label is its name
          label_or(l, {"version"}, "unknown"),
          id.cluster_id};
}

DestinationLabels destination_labels(const upstream::ClusterInfo* cluster, const upstream::Endpoint* endpoint,
                                     std::string_view authority) {
  DestinationLabels d;
  if (cluster == nullptr) {
    if (!authority.empty()) d.service = d.service_name = authority;
    return d;
  }
  d.service = cluster->service_host;
  // Kubernetes Services ("name.ns.svc.<domain>") have a short name; other
  // hosts (ServiceEntry) are their own name, as istiod names them.
  const std::string_view host = cluster->service_host;
  const size_t dot = host.find('.');
  d.service_name = dot != std::string_view::npos && host.find(".svc.", dot) != std::string_view::npos
                       ? host.substr(0, dot)
                       : host;
  if (endpoint == nullptr) return d;

  const Origin origin = parse_origin(endpoint->origin);
  std::string_view workload_name_label, pod_template_hash, canonical_name, k8s_name, app, canonical_rev,
      k8s_version, version;
  // One pass over the labels, comparing as string_views (no temporaries).
  for (const auto& [key, value] : endpoint->labels) {
    const std::string_view k = key;
    if (k == "app") {
      app = value;
    } else if (k == "version") {
      version = value;
    } else if (k == "service.istio.io/canonical-name") {
      canonical_name = value;
    } else if (k == "service.istio.io/canonical-revision") {
      canonical_rev = value;
    } else if (k == "app.kubernetes.io/name") {
      k8s_name = value;
    } else if (k == "app.kubernetes.io/version") {
      k8s_version = value;
    } else if (k == "service.istio.io/workload-name") {
      workload_name_label = value;
    } else if (k == "pod-template-hash") {
      pod_template_hash = value;
    }
  }
  if (!workload_name_label.empty()) {
    d.workload = workload_name_label;
  } else if (origin.kind == "WorkloadEntry") {
    d.workload = origin.name;  // a WorkloadEntry is its own workload
  } else if (origin.kind == "Pod" && !origin.name.empty()) {
    // A Deployment's pod "web-5d9c7b8f4-x2x7q" (pod-template-hash 5d9c7b8f4)
    // belongs to workload "web"; a pod without owner is its own workload.
    d.workload = origin.name;
    if (!pod_template_hash.empty()) {
      const size_t at = origin.name.rfind(pod_template_hash);
      if (at != std::string_view::npos && at > 1 && origin.name[at - 1] == '-')
        d.workload = origin.name.substr(0, at - 1);
    }
  }
  if (origin.kind == "WorkloadEntry" || origin.kind == "Pod" || origin.kind == "EndpointSlice") {
    d.workload_namespace = origin.ns;
    d.service_namespace = origin.ns;
  }
  if (!app.empty()) d.app = app;
  if (!version.empty()) d.version = version;
  if (!canonical_name.empty()) {
    d.canonical_service = canonical_name;
  } else if (!k8s_name.empty()) {
    d.canonical_service = k8s_name;
  } else if (!app.empty()) {
    d.canonical_service = app;
  } else if (d.workload != "unknown") {
    d.canonical_service = d.workload;
  }
  if (!canonical_rev.empty()) {
    d.canonical_revision = canonical_rev;
  } else if (!k8s_version.empty()) {
    d.canonical_revision = k8s_version;
  } else if (!version.empty()) {
    d.canonical_revision = version;
  }
  return d;
}

}  // namespace torii::telemetry
