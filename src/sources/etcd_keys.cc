#include "sources/etcd_keys.h"

#include <algorithm>
#include <cctype>

namespace torii::sources {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string plural(std::string_view kind) {
  std::string out = lower(kind);
  if (out.ends_with("ss")) return out + "es";                            // gatewayclasses
  if (out.ends_with("s")) return out;                                    // endpoints
  if (out.ends_with("y")) return out.substr(0, out.size() - 1) + "ies";  // telemetry -> telemetries
  return out + "s";
}

}  // namespace

const std::vector<KindInfo>& known_kinds() {
  static const std::vector<KindInfo> kinds = {
      {"Gateway", "networking.istio.io", "Gateway", false, "gw"},
      {"VirtualService", "networking.istio.io", "VirtualService", false, "vs"},
      {"DestinationRule", "networking.istio.io", "DestinationRule", false, "dr"},
      {"ServiceEntry", "networking.istio.io", "ServiceEntry", false, "se"},
      {"WorkloadEntry", "networking.istio.io", "WorkloadEntry", false, "we"},
      {"EnvoyFilter", "networking.istio.io", "EnvoyFilter", false, ""},
      {"Service", "core", "Service", false, "svc"},
      {"Pod", "core", "Pod", false, "po"},
      {"Endpoints", "core", "Endpoints", false, "ep"},
      {"Namespace", "core", "Namespace", true, "ns"},
      {"Secret", "core", "Secret", false, ""},
      {"EndpointSlice", "discovery.k8s.io", "EndpointSlice", false, ""},
      {"Telemetry", "telemetry.istio.io", "Telemetry", false, ""},
      {"RequestAuthentication", "security.istio.io", "RequestAuthentication", false, "ra"},
      {"AuthorizationPolicy", "security.istio.io", "AuthorizationPolicy", false, "ap"},
      {"GatewayClass", "gateway.networking.k8s.io", "GatewayClass", true, "gc"},
      {"Gateway.gateway.networking.k8s.io", "gateway.networking.k8s.io", "Gateway", false, ""},
      {"HTTPRoute", "gateway.networking.k8s.io", "HTTPRoute", false, ""},
      {"GRPCRoute", "gateway.networking.k8s.io", "GRPCRoute", false, ""},
      {"TLSRoute", "gateway.networking.k8s.io", "TLSRoute", false, ""},
      {"TCPRoute", "gateway.networking.k8s.io", "TCPRoute", false, ""},
      {"ReferenceGrant", "gateway.networking.k8s.io", "ReferenceGrant", false, ""},
  };
  return kinds;
}

const KindInfo* kind_info(std::string_view key_kind) {
  for (const KindInfo& k : known_kinds()) {
    if (key_kind == k.key_kind) return &k;
  }
  return nullptr;
}

const KindInfo* resolve_kind(std::string_view name) {
  const std::string wanted = lower(name);
  // kind.group first: "gateway.gateway.networking.k8s.io" is not the Istio Gateway.
  for (const KindInfo& k : known_kinds()) {
    const std::string full = lower(k.kind) + "." + k.group;
    if (wanted == full || wanted == plural(k.kind) + "." + k.group) return &k;
  }
  for (const KindInfo& k : known_kinds()) {
    if (std::string_view(k.key_kind).find('.') != std::string_view::npos) continue;  // only by kind.group
    const std::string kind = lower(k.kind);
    if (wanted == kind || wanted == plural(k.kind) || (*k.short_name != '\0' && wanted == k.short_name))
      return &k;
    if (kind == "endpoints" && wanted == "endpoint") return &k;  // kubectl takes it too
  }
  return nullptr;
}

std::string objects_prefix(std::string_view prefix) { return std::string(prefix) + "objects/"; }

std::string replicas_prefix(std::string_view prefix) { return std::string(prefix) + "replicas/"; }

std::string generation_key_name(std::string_view prefix) { return objects_prefix(prefix) + "_generation"; }

std::string kind_prefix(std::string_view prefix, const KindInfo& kind, std::string_view namespace_) {
  std::string out = objects_prefix(prefix) + kind.group + "/" + kind.kind + "/";
  if (!namespace_.empty()) out += std::string(kind.cluster_scoped ? "_" : namespace_) + "/";
  return out;
}

std::string object_key(std::string_view prefix, const config::ObjectKey& key) {
  const KindInfo* kind = kind_info(key.kind);
  if (kind == nullptr) return "";
  return kind_prefix(prefix, *kind, key.namespace_.empty() ? "_" : key.namespace_) + key.name;
}

bool parse_object_key(std::string_view prefix, std::string_view etcd_key, config::ObjectKey& out) {
  const std::string objects = objects_prefix(prefix);
  if (!etcd_key.starts_with(objects)) return false;
  std::string_view rest = etcd_key.substr(objects.size());
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    parts[i] = rest.substr(0, slash);
    rest.remove_prefix(slash + 1);
  }
  parts[3] = rest;
  if (parts[3].empty() || parts[3].find('/') != std::string_view::npos) return false;
  for (const KindInfo& k : known_kinds()) {
    if (parts[0] != k.group || parts[1] != k.kind) continue;
    out.kind = k.key_kind;
    out.namespace_ = parts[2] == "_" ? "" : std::string(parts[2]);
    out.name = std::string(parts[3]);
    return true;
  }
  return false;
}

}  // namespace torii::sources
