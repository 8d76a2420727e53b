// Resources -> Snapshot. A pure function: no sockets, no clock, no globals, so
// tests can ask "where would this request go?" without sending it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compile/snapshot.h"
#include "config/resources.h"

namespace torii::compile {

// Who this gateway process is: matched against Gateway selectors, exportTo and
// DestinationRule lookup, like the gateway pod's labels and namespace in Istio.
struct GatewayIdentity {
  std::string namespace_ = "istio-system";
  config::Labels labels = {{"istio", "ingressgateway"}};
  std::string domain_suffix = "cluster.local";
  std::string root_namespace = "istio-system";
  // Gateway port.number -> port to bind (Istio binds the Service targetPort);
  // 0: a port the kernel picks, one per Gateway port.
  std::map<uint32_t, uint32_t> port_map;
  std::string bind = "0.0.0.0";  // default bind address when a server has no `bind`
  // The gateway's own locality "region/zone/subzone" (--locality): what
  // locality load balancing compares endpoint localities with. Empty =
  // unknown, and locality failover / distribute do not apply.
  std::string locality;
  // Gateway port numbers whose plaintext HTTP servers also act as forward
  // proxies (--forward-proxy-port): absolute-form requests there are routed
  // by their target as the app's sidecar would (compile/forward_proxy_builder.h).
  std::set<uint32_t> forward_proxy_ports;
  // meshConfig.outboundTrafficPolicy.mode (--outbound-traffic-policy):
  // REGISTRY_ONLY when true, else ALLOW_ANY (Istio's default).
  bool outbound_registry_only = false;
  // Gateway API Gateways of this gatewayClassName are served (--gateway-class).
  std::string gateway_class = "istio";

  bool operator==(const GatewayIdentity&) const = default;
};

// What the control plane's DNS last resolved each host name to (IPv4 text).
// The compiler stays pure: it reads these answers and says which names it
// needs (CompileResult::dns_names); the caller resolves them and compiles
// again when an answer changes.
using DnsAnswers = std::map<std::string, std::vector<std::string>, std::less<>>;

struct CompileResult {
  std::shared_ptr<Snapshot> snapshot;  // never null
  config::Diagnostics diagnostics;     // also copied into snapshot->diagnostics
  // Host names that endpoints of DNS / DNS_ROUND_ROBIN ServiceEntries used by
  // this snapshot's clusters resolve through.
  std::set<std::string> dns_names;
  // file:// JWKS this snapshot read (the control plane re-reads them to
  // pick up rotated keys).
  std::set<std::string> jwks_files;
  // Clusters and virtual hosts shared with the previous compile's snapshot
  // rather than built (compile/compile_cache.h); 0 without a cache.
  size_t clusters_shared = 0;
  size_t virtual_hosts_shared = 0;
};

struct CompileCache;

// `cache` (optional): clusters and virtual hosts of the previous compile,
// shared by the new snapshot where nothing they are built from changed, and
// left updated for the next (compile/compile_cache.h). The snapshot serves
// as it would without; only the order of some diagnostics may differ.
CompileResult compile(const config::ResourceSet& resources, const GatewayIdentity& identity,
                      const DnsAnswers& dns = {}, CompileCache* cache = nullptr);

}  // namespace torii::compile
