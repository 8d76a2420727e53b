#include "compile/gateway_merge.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "compile/creation_order.h"
#include "compile/host_name.h"
#include "compile/labels.h"

namespace torii::compile {

namespace {

std::string server_field(size_t index) { return "spec.servers[" + std::to_string(index) + "]"; }

// Who first claimed a (bind, listen port).
struct PortOwner {
  std::string family;  // "http" (plaintext), "terminated-https" or the protocol
  std::string protocol;
  std::string gateway_name;
};

std::string family_of(const config::Server& server) {
  if (is_plaintext_http(server.port.protocol)) return "http";
  if (is_terminated_https(server)) return "terminated-https";
  return host::to_lower(server.port.protocol);
}

}  // namespace

bool is_plaintext_http(std::string_view protocol) {
  std::string p = host::to_lower(protocol);
  // protocol.IsHTTP: HTTP_PROXY is plain HTTP to a gateway.
  return p == "http" || p == "http2" || p == "grpc" || p == "grpc-web" || p == "http_proxy";
}

bool is_terminated_https(const config::Server& server) {
  if (host::to_lower(server.port.protocol) != "https" || !server.tls) return false;
  const std::string& mode = server.tls->mode;
  return mode.empty() || mode == "SIMPLE" || mode == "MUTUAL";  // SIMPLE is the default mode
}

bool is_tls_passthrough(const config::Server& server) {
  const std::string p = host::to_lower(server.port.protocol);
  if (!server.tls) return false;
  const std::string& mode = server.tls->mode;
  // An unset mode is the API's default, PASSTHROUGH (an HTTPS server without
  // a mode is taken as SIMPLE by is_terminated_https, see there).
  return (p == "tls" && (mode.empty() || mode == "PASSTHROUGH")) || (p == "https" && mode == "PASSTHROUGH");
}

bool is_opaque_tcp(const config::Server& server) {
  const std::string p = host::to_lower(server.port.protocol);
  return !server.tls && (p == "tcp" || p == "mongo" || p == "mysql" || p == "redis");
}

bool is_terminated_tls_tcp(const config::Server& server) {
  if (host::to_lower(server.port.protocol) != "tls" || !server.tls) return false;
  return server.tls->mode == "SIMPLE" || server.tls->mode == "MUTUAL";
}

bool is_l4_server(const config::Server& server) {
  return is_tls_passthrough(server) || is_opaque_tcp(server) || is_terminated_tls_tcp(server);
}

std::vector<const config::Gateway*> select_gateways(const config::ResourceSet& resources,
                                                    const GatewayIdentity& identity) {
  std::vector<const config::Gateway*> selected;
  for (const config::Gateway& gateway : resources.gateways) {
    // An empty selector applies to every gateway workload.
    if (labels_subset(gateway.selector, identity.labels)) selected.push_back(&gateway);
  }
  std::stable_sort(selected.begin(), selected.end(), [](const config::Gateway* a, const config::Gateway* b) {
    return created_before(a->meta, b->meta);
  });
  return selected;
}

std::vector<MergedListener> merge_gateways(const std::vector<const config::Gateway*>& gateways,
                                           const GatewayIdentity& identity, DiagnosticSink& diagnostics) {
  // (listen port, bind, Gateway port if the listen port is 0): sorts listeners
  // by port. Gateway ports mapped to 0 (--port-map 80=0) each get a port of
  // their own from the kernel, so they are never one listener.
  using Key = std::tuple<uint32_t, std::string, uint32_t>;
  std::map<Key, PortOwner> owners;
  std::map<Key, MergedListener> listeners;

  for (const config::Gateway* gateway : gateways) {
    std::string gateway_name = gateway->meta.namespace_ + "/" + gateway->meta.name;
    for (size_t i = 0; i < gateway->servers.size(); ++i) {
      const config::Server& server = gateway->servers[i];
      uint32_t listen_port = server.port.number;
      if (auto it = identity.port_map.find(server.port.number); it != identity.port_map.end()) {
        listen_port = it->second;
      }
      std::string bind = server.bind.empty() ? identity.bind : server.bind;
      const bool ephemeral = listen_port == 0;
      Key key{listen_port, bind, ephemeral ? server.port.number : 0};
      const std::string family = family_of(server);
      const bool http = family == "http";
      const bool https = family == "terminated-https";
      std::string where = bind + ":" + std::to_string(listen_port);
      if (ephemeral) where += " (Gateway port " + std::to_string(server.port.number) + ")";

      auto owner = owners.find(key);
      if (owner != owners.end() && owner->second.family != family &&
          (http || owner->second.family == "http")) {
        diagnostics.warning(kGatewayKind, gateway->meta, server_field(i),
                            "protocol " + server.port.protocol + " conflicts with the " +
                                owner->second.protocol + " server of Gateway " + owner->second.gateway_name +
                                " already on " + where +
                                "; server skipped (plaintext HTTP cannot share a port with other protocols)",
                            &server.source);
        continue;
      }
      if (owner == owners.end()) {
        owners.emplace(key, PortOwner{family, server.port.protocol, gateway_name});
      }
      const bool l4 = is_l4_server(server);
      if (!http && !https && !l4) {
        std::string what = "protocol " + server.port.protocol;
        if (server.tls && !server.tls->mode.empty()) what += " with tls.mode " + server.tls->mode;
        diagnostics.warning(kGatewayKind, gateway->meta, server_field(i),
                            what + " is not supported yet; server skipped", &server.source);
        continue;
      }

      MergedListener& listener = listeners[key];
      if (listener.servers.empty() && listener.l4_servers.empty()) {
        // Istio's "<bind>_<port>"; "<bind>_0_<Gateway port>" when the kernel picks the port.
        listener.name = bind + "_" + std::to_string(listen_port);
        if (ephemeral) listener.name += "_" + std::to_string(server.port.number);
        listener.bind = bind;
        listener.listen_port = listen_port;
        listener.gateway_port = server.port.number;
        listener.tls_terminated = https;
      }
      MergedServer merged{gateway, gateway_name, &server, i,
                          host::sanitize_server_hosts(server.hosts, gateway->meta.namespace_)};
      if (l4) {
        // Filter chains beside terminated HTTPS ones, chosen by SNI.
        listener.l4_servers.push_back(std::move(merged));
        continue;
      }
      if (listener.servers.empty()) {
        listener.tls_terminated = https;
      } else if (listener.tls_terminated != https) {
        continue;
      }
      listener.servers.push_back(std::move(merged));
    }
  }

  std::vector<MergedListener> out;
  out.reserve(listeners.size());
  for (auto& [key, listener] : listeners) out.push_back(std::move(listener));
  return out;
}

}  // namespace torii::compile
