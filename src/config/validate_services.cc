// DestinationRule, ServiceEntry, WorkloadEntry (istiod: ValidateDestinationRule,
// ValidateServiceEntry, validateWorkloadEntry) and Kubernetes Service checks.
#include <set>

#include "config/names.h"
#include "config/validate.h"
#include "config/validate_common.h"

namespace torii::config {
namespace {

// `service_ports`: the owning ServiceEntry's port names, or null for a
// standalone WorkloadEntry. `allow_fqdn`: false for STATIC resolution.
void check_workload_entry(Report& r, const std::string& field, const WorkloadEntry& we,
                          const std::set<std::string>* service_ports, bool allow_fqdn) {
  const std::string& address = we.address;
  if (address.empty()) {
    if (we.network.empty()) {
      r.error(field + ".address", "address is required");
      return;
    }
    // Reachable through the network's gateway.
    r.warning(field + ".address", "address is unset with network " + quote(we.network));
  }
  bool unix_endpoint = false;
  if (address.starts_with(kUnixPrefix)) {
    unix_endpoint = true;
    r.error_unless_empty(field + ".address",
                         check_unix_address(std::string_view(address).substr(kUnixPrefix.size())));
    if (!we.ports.empty()) r.error(field + ".ports", "unix endpoint " + address + " must not include ports");
  } else if (!address.empty() && !is_ip_address(address)) {
    if (!allow_fqdn) {
      r.error(field + ".address", "endpoint address " + quote(address) + " is not a valid IP address");
    } else if (!check_fqdn(address).empty()) {
      r.error(field + ".address",
              "endpoint address " + quote(address) + " is not a valid FQDN or an IP address");
    }
  }
  for (const auto& [name, port] : we.ports) {
    const std::string f = entry(field + ".ports", name);
    if (service_ports && !service_ports->contains(name)) {
      r.error(f, "endpoint port " + std::to_string(port) + " is not defined by the service entry");
    }
    r.error_unless_empty(f, check_port_name(name));
    r.error_unless_empty(f, check_port(port));
  }
  check_labels(r, field + ".labels", we.labels);
  if (unix_endpoint && service_ports && service_ports->size() != 1) {
    r.error(field, "exactly 1 service port required for unix endpoints");
  }
}

void check_workload_selector(Report& r, const std::string& field, const Labels& selector) {
  for (const auto& [key, value] : selector) {
    const std::string pair = quote(key + "=" + value);
    if (key.empty()) r.error(field, "empty key is not supported in selector: " + pair);
    if (key.find('*') != std::string::npos || value.find('*') != std::string::npos) {
      r.error(field, "wildcard is not supported in selector: " + pair);
    }
  }
  if (selector.empty()) {
    r.warning(field,
              "service entry: workload selector specified without labels, will be applied to all services in "
              "namespace");
  }
}

// istiod's DYNAMIC_DNS rules (Envoy's dynamic forward proxy: the request's
// host is resolved per request), then what Torii does with it.
void check_dynamic_dns(Report& r, const ServiceEntry& se) {
  const std::string mode = " for resolution type DYNAMIC_DNS";
  for (size_t i = 0; i < se.hosts.size(); ++i) {
    if (!se.hosts[i].starts_with('*'))
      r.error(at("spec.hosts", i), "host must be wildcarded for resolution mode DYNAMIC_DNS");
  }
  if (!se.addresses.empty()) {
    r.error("spec.addresses", "addresses cannot be set" + mode +
                                  ". HTTP route domains will only be generated from the hosts field values");
  }
  if (!se.endpoints.empty()) {
    r.error("spec.endpoints",
            "endpoints cannot be set" + mode + ". Destination IP address determined from hosts field values");
  }
  for (size_t i = 0; i < se.ports.size(); ++i) {
    const std::string& p = se.ports[i].protocol;
    if (p != "HTTP" && p != "TLS" && p != "GRPC" && p != "HTTP2")
      r.error(at("spec.ports", i) + ".protocol",
              "only HTTP, TLS, GRPC, and HTTP2 protocols are supported" + mode);
  }
  r.warning(
      "spec.resolution",
      "resolution DYNAMIC_DNS is not implemented by Torii: these hosts get no endpoints, so requests routed "
      "to them are answered 503");
}

}  // namespace

Diagnostics validate(const DestinationRule& dr, const FieldLines& lines) {
  Report r("DestinationRule", dr.meta, lines);
  r.error_unless_empty("spec.host", check_wildcard_domain(dr.host));
  std::set<std::string> names;
  for (size_t i = 0; i < dr.subsets.size(); ++i) {
    const Subset& subset = dr.subsets[i];
    const std::string field = at("spec.subsets", i);
    if (!names.insert(subset.name).second) r.error(field + ".name", "duplicate subset names: " + subset.name);
    if (subset.name.empty()) {
      r.error(field + ".name", "subset name cannot be empty");
    } else if (!is_dns1123_label(subset.name)) {
      r.error(field + ".name", "subset name is invalid: " + subset.name);
    }
    check_labels(r, field + ".labels", subset.labels);
    if (subset.traffic_policy)
      check_traffic_policy(r, field + ".trafficPolicy", *subset.traffic_policy, dr.meta.namespace_);
  }
  if (dr.traffic_policy)
    check_traffic_policy(r, "spec.trafficPolicy", *dr.traffic_policy, dr.meta.namespace_);
  check_export_to(r, "spec.exportTo", dr.meta.namespace_, dr.export_to, false);
  return r.take();
}

Diagnostics validate(const ServiceEntry& se, const FieldLines& lines) {
  Report r("ServiceEntry", se.meta, lines);
  if (se.workload_selector) check_workload_selector(r, "spec.workloadSelector.labels", *se.workload_selector);
  if (se.workload_selector && !se.endpoints.empty()) {
    r.error("spec", "only one of WorkloadSelector or Endpoints is allowed in Service Entry");
  }

  if (se.hosts.empty()) r.error("spec.hosts", "service entry must have at least one host");
  for (size_t i = 0; i < se.hosts.size(); ++i) {
    const std::string field = at("spec.hosts", i);
    if (se.hosts[i] == "*") {
      r.error(field, "invalid host *");
      continue;
    }
    r.error_unless_empty(field, check_wildcard_domain(se.hosts[i]));
    if (std::string warn = check_partial_wildcard(se.hosts[i]);
        !warn.empty() && se.resolution != "DYNAMIC_DNS")
      r.warning(field, std::move(warn));
  }

  bool has_cidr = false;
  for (size_t i = 0; i < se.addresses.size(); ++i) {
    has_cidr = has_cidr || se.addresses[i].find('/') != std::string::npos;
    r.error_unless_empty(at("spec.addresses", i), check_ip_subnet(se.addresses[i]));
  }
  if (has_cidr && se.resolution != "NONE" && se.resolution != "STATIC") {
    r.error("spec.addresses", "CIDR addresses are allowed only for NONE/STATIC resolution types");
  }

  if (se.location != "MESH_EXTERNAL" && se.location != "MESH_INTERNAL") {
    r.error("spec.location",
            "invalid location " + quote(se.location) + ", must be MESH_EXTERNAL or MESH_INTERNAL");
  }

  std::set<std::string> port_names;
  std::set<uint32_t> port_numbers;
  for (size_t i = 0; i < se.ports.size(); ++i) {
    const Port& port = se.ports[i];
    const std::string field = at("spec.ports", i);
    if (!port_names.insert(port.name).second) {
      r.error(field + ".name", "service entry port name " + quote(port.name) + " already defined");
    }
    if (!port_numbers.insert(port.number).second) {
      r.error(field + ".number", "service entry port " + std::to_string(port.number) + " already defined");
    }
    if (port.target_port != 0) {
      r.error_unless_empty(field + ".targetPort", check_port(port.target_port));
      if (se.resolution == "NONE")
        r.warning(field + ".targetPort", "targetPort has no effect when resolution mode is NONE");
    }
    // istiod's "addresses are required for TCP ports" warning is about sidecar
    // traffic capture, which a gateway does not do, so it is left out.
    r.error_unless_empty(field + ".name", check_port_name(port.name));
    if (!port.protocol.empty() && !is_known_protocol(port.protocol)) {
      r.error(field + ".protocol", "unsupported protocol: " + port.protocol);
    }
    r.error_unless_empty(field + ".number", check_port(port.number));
  }

  const std::string& resolution = se.resolution;
  if (resolution == "NONE") {
    if (!se.endpoints.empty())
      r.error("spec.endpoints", "no endpoints should be provided for resolution type none");
    if (se.workload_selector) {
      r.warning("spec.workloadSelector", "workloadSelector should not be set when resolution mode is NONE");
    }
  } else if (resolution == "STATIC") {
    for (size_t i = 0; i < se.endpoints.size(); ++i) {
      check_workload_entry(r, at("spec.endpoints", i), se.endpoints[i], &port_names, false);
    }
  } else if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
    if (se.endpoints.empty()) {
      for (size_t i = 0; i < se.hosts.size(); ++i) {
        if (std::string err = check_fqdn(se.hosts[i]); !err.empty()) {
          r.error(at("spec.hosts", i),
                  "hosts must be FQDN or contain only prefix wildcards if no endpoints are "
                  "provided for resolution mode " +
                      resolution + ", " + err);
          break;  // istiod reports the first
        }
      }
    }
    if (resolution == "DNS_ROUND_ROBIN" && se.endpoints.size() > 1) {
      r.error("spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode " + resolution);
    }
    for (size_t i = 0; i < se.endpoints.size(); ++i) {
      const WorkloadEntry& endpoint = se.endpoints[i];
      const std::string field = at("spec.endpoints", i);
      if (!is_ip_address(endpoint.address) && !check_fqdn(endpoint.address).empty()) {
        r.error(field + ".address",
                "endpoint address " + quote(endpoint.address) + " is not a valid FQDN or an IP address");
      }
      check_labels(r, field + ".labels", endpoint.labels);
      for (const auto& [name, port] : endpoint.ports) {
        const std::string f = entry(field + ".ports", name);
        if (!port_names.contains(name)) {
          r.error(f, "endpoint port " + std::to_string(port) + " is not defined by the service entry");
        }
        r.error_unless_empty(f, check_port_name(name));
        r.error_unless_empty(f, check_port(port));
      }
    }
    if (se.workload_selector) {
      r.warning("spec.workloadSelector",
                "workloadSelector should not be set when resolution mode is " + resolution);
    }
    if (!se.addresses.empty() && se.hosts.size() > 1) {
      for (const Port& port : se.ports) {
        if (is_tcp_protocol(port.protocol)) {
          r.warning("spec.hosts",
                    "service entry can not have more than one host specified simultaneously with address "
                    "and tcp port");
          break;
        }
      }
    }
  } else if (resolution == "DYNAMIC_DNS") {
    check_dynamic_dns(r, se);
  } else {
    r.error("spec.resolution", "unsupported resolution type " + resolution);
  }

  // Plain TCP cannot tell hosts apart, so they must be HTTP (Host) or TLS (SNI).
  if (resolution != "NONE" && se.hosts.size() > 1) {
    for (const Port& port : se.ports) {
      if (!is_http_protocol(port.protocol) && !is_tls_protocol(port.protocol)) {
        r.error("spec.ports", "multiple hosts provided with non-HTTP, non-TLS ports");
        break;
      }
    }
  }
  check_export_to(r, "spec.exportTo", se.meta.namespace_, se.export_to, true);
  return r.take();
}

Diagnostics validate(const WorkloadEntry& we, const FieldLines& lines) {
  Report r("WorkloadEntry", we.meta, lines);
  check_workload_entry(r, "spec", we, nullptr, true);
  return r.take();
}

// What the Kubernetes API server would refuse in the fields Torii reads.
Diagnostics validate(const Service& service, const FieldLines& lines) {
  Report r("Service", service.meta, lines);
  const std::string& type = service.type;
  if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" && type != "ExternalName") {
    r.error("spec.type", "unsupported type " + quote(type) +
                             ", must be ClusterIP, NodePort, LoadBalancer or ExternalName");
  }
  if (type == "ExternalName" && service.external_name.empty()) {
    r.error("spec.externalName", "externalName is required for type ExternalName");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < service.ports.size(); ++i) {
    const ServicePort& port = service.ports[i];
    const std::string field = at("spec.ports", i);
    r.error_unless_empty(field + ".port", check_port(port.port));
    if (port.target_port_name.empty()) {
      r.error_unless_empty(field + ".targetPort", check_port(port.target_port));
    } else if (!is_dns1123_label(port.target_port_name) || port.target_port_name.size() > 15) {
      r.error(field + ".targetPort", "invalid port name " + quote(port.target_port_name));
    }
    if (service.ports.size() > 1 && port.name.empty()) {
      r.error(field + ".name", "port name is required when a Service has more than one port");
    } else if (!port.name.empty() && !names.insert(port.name).second) {
      r.error(field + ".name", "duplicate port name " + quote(port.name));
    }
  }
  return r.take();
}

}  // namespace torii::config
