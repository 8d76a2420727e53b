// The routes of a forward-proxy listener (--forward-proxy-port; see
// router/forward_proxy_table.h): what an Istio sidecar's outbound HTTP route
// configurations would hold for the app behind it, since in forward-proxy
// mode the app sends its outbound requests to Torii itself.
//
// Per target port P and per registry host H (Kubernetes Service or
// ServiceEntry host, exact or `*.suffix`) that declares P: one virtual host
// H with the routes of the VirtualServices bound to `mesh` (explicitly, or
// by having no `gateways`) whose hosts cover H, translated with gateway
// `mesh` and port P (so `match.gateways: [mesh]` and `match.port` behave as
// in the sidecar); without such a VirtualService, Istio's "default" route to
// outbound|P||H with the default retry policy. Hosts not in the registry get
// no virtual host: the forward proxy refuses them (403).
//
// Route destinations on these tables (ISTIO_SEMANTICS §6.1, §7):
//   * a host no Service or ServiceEntry knows: the outbound traffic policy
//     decides, as it does for the sidecar -- REGISTRY_ONLY: BlackHoleCluster
//     (502); ALLOW_ANY: PassthroughCluster (the named host, resolved by DNS
//     per request);
//   * a ServiceEntry with resolution NONE: original destination, which for a
//     forward proxy is the host the request names (resolved per request) --
//     for a wildcard host, Envoy's dynamic forward proxy (§10 #16). Ordinary
//     gateway listeners keep Istio's gateway behaviour (503 no healthy
//     upstream; unknown host 503 NC): these marks exist on forward-proxy
//     tables only.
#pragma once

#include <memory>

#include "compile/cluster_builder.h"
#include "compile/compiler.h"
#include "compile/delegation.h"
#include "compile/diagnostic_sink.h"
#include "compile/service_registry.h"
#include "compile/snapshot.h"
#include "compile/vs_ordering.h"
#include "router/forward_proxy_table.h"

namespace torii::compile {

inline constexpr std::string_view kPassthroughCluster = "PassthroughCluster";

std::shared_ptr<const router::ForwardProxyTable> build_forward_proxy_table(
    const ServiceRegistry& registry, const VirtualServiceIndex& virtual_services,
    const GatewayIdentity& identity, ClusterBuilder& clusters, DiagnosticSink& diagnostics,
    const DelegationResult* delegation, Snapshot& snapshot);

}  // namespace torii::compile
