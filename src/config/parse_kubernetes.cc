// Kubernetes core/v1 Service, Pod, Endpoints and discovery.k8s.io/v1
// EndpointSlice. Defaults the API server would fill in on `kubectl apply`
// (Service type and port protocol, targetPort = port) are filled here, so the
// compiler sees what a cluster would hold.
#include "config/parsers.h"

namespace torii::config {
namespace {

constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";

std::optional<ObjectReference> read_object_reference(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  ObjectReference ref;
  ref.kind = f["kind"].string();
  ref.name = f["name"].string();
  ref.namespace_ = f["namespace"].string();
  return ref;
}

// One subset's addresses (core/v1 EndpointAddress) as slice endpoints.
void read_endpoint_addresses(const Field& list, bool ready, EndpointSlice& out) {
  for (const Field& a : list.items()) {
    if (!a.expect_map()) continue;
    EndpointSlice::Endpoint e;
    e.addresses.push_back(a["ip"].string());
    e.ready = ready;
    e.target_ref = read_object_reference(a["targetRef"]);
    e.node_name = a["nodeName"].string();
    out.endpoints.push_back(std::move(e));
  }
}

std::vector<EndpointSlice::EndpointPort> read_endpoint_ports(const Field& list) {
  std::vector<EndpointSlice::EndpointPort> ports;
  for (const Field& p : list.items()) {
    if (!p.expect_map()) continue;
    ports.push_back({p["name"].string(), p["port"].uint32()});
  }
  return ports;
}

}  // namespace

void read_service(const Field& root, Service& out) {
  out.type = "ClusterIP";
  const Field spec = root["spec"];
  if (!spec.expect_map()) return;
  // Absent and `{}` differ: without a selector, endpoints come only from
  // Endpoints/EndpointSlice objects.
  out.selector = spec["selector"].optional_string_map();
  for (const Field& p : spec["ports"].items()) {
    ServicePort port;
    if (p.expect_map()) {
      port.name = p["name"].string();
      port.protocol = p["protocol"].upper_string();
      if (port.protocol.empty()) port.protocol = "TCP";
      port.app_protocol = p["appProtocol"].string();
      port.port = p["port"].uint32();
      // targetPort is an IntOrString: a number, or the name of a container port.
      const Field target = p["targetPort"];
      if (target.present() && target.node().IsScalar()) {
        const std::string& text = target.node().Scalar();
        const bool numeric = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (numeric) {
          port.target_port = target.uint32();
        } else {
          port.target_port_name = text;
        }
      } else if (target.present()) {
        target.error("expected an integer or a port name");
      } else {
        port.target_port = port.port;
      }
    }
    out.ports.push_back(std::move(port));
  }
  if (const std::string type = spec["type"].string(); !type.empty()) out.type = type;
  out.external_name = spec["externalName"].string();
  out.cluster_ip = spec["clusterIP"].string();
}

void read_pod(const Field& root, Pod& out) {
  const Field spec = root["spec"];
  if (spec.expect_map()) {
    out.node_name = spec["nodeName"].string();
    for (const Field& c : spec["containers"].items()) {
      if (!c.expect_map()) continue;
      for (const Field& p : c["ports"].items()) {
        if (!p.expect_map()) continue;
        const std::string name = p["name"].string();
        const uint32_t number = p["containerPort"].uint32();
        if (!name.empty()) out.container_ports[name] = number;
      }
    }
  }
  const Field status = root["status"];
  if (status.expect_map()) {
    out.pod_ip = status["podIP"].string();
    if (out.pod_ip.empty()) {
      for (const Field& ip : status["podIPs"].items()) {
        if (ip.expect_map() && out.pod_ip.empty()) out.pod_ip = ip["ip"].string();
      }
    }
    for (const Field& c : status["conditions"].items()) {
      if (c.expect_map() && c["type"].string() == "Ready") out.ready = c["status"].string() == "True";
    }
  }
}

void read_endpoint_slice(const Field& root, EndpointSlice& out) {
  if (auto it = out.meta.labels.find(kServiceNameLabel); it != out.meta.labels.end()) {
    out.service_name = it->second;
  }
  for (const Field& f : root["endpoints"].items()) {
    if (!f.expect_map()) continue;
    EndpointSlice::Endpoint e;
    e.addresses = f["addresses"].strings();
    const Field conditions = f["conditions"];
    if (conditions.expect_map()) e.ready = conditions["ready"].optional_boolean().value_or(true);
    e.target_ref = read_object_reference(f["targetRef"]);
    e.zone = f["zone"].string();
    e.node_name = f["nodeName"].string();
    out.endpoints.push_back(std::move(e));
  }
  out.ports = read_endpoint_ports(root["ports"]);
}

std::vector<EndpointSlice> read_endpoints(const Field& root, const ObjectMeta& meta) {
  std::vector<EndpointSlice> slices;
  for (const Field& subset : root["subsets"].items()) {
    if (!subset.expect_map()) continue;
    EndpointSlice slice;
    slice.meta = meta;
    slice.meta.labels[kServiceNameLabel] = meta.name;
    slice.service_name = meta.name;
    slice.from_endpoints = true;
    read_endpoint_addresses(subset["addresses"], true, slice);
    read_endpoint_addresses(subset["notReadyAddresses"], false, slice);
    slice.ports = read_endpoint_ports(subset["ports"]);
    slices.push_back(std::move(slice));
  }
  return slices;
}

void read_secret(const Field& root, Secret& out) {
  out.type = root["type"].string();
  for (const auto& [key, encoded] : root["data"].string_map()) {
    // Line breaks are allowed inside, as Go's base64 decoder skips them.
    std::string compact;
    for (char c : encoded) {
      if (c != '\n' && c != '\r') compact.push_back(c);
    }
    std::optional<std::string> bytes = decode_base64(compact);
    if (!bytes) {
      root["data"][key].error("invalid base64 data");
      continue;
    }
    out.data[key] = std::move(*bytes);
  }
  for (const auto& [key, value] : root["stringData"].string_map()) out.data[key] = value;
}

}  // namespace torii::config
