// The layer-4 filter chains of one listener, from its TCP and TLS
// PASSTHROUGH servers (istiod gateway.go createGatewayTCPFilterChainOpts,
// buildGatewayNetworkFiltersFromTCPRoutes / FromTLSRoutes):
//
// * A VS takes part for a server when it is attached to the server's Gateway
//   and one of its hosts overlaps one of the server's hosts (namespace
//   qualifiers applied), in VirtualServicesForGateway order.
// * TLS passthrough server: every `tls:` match whose `port` is empty or the
//   server's port and whose `gateways` are empty or name the server's Gateway
//   becomes one filter chain matched on its sniHosts. A match repeating an
//   SNI host some earlier chain of the port has is skipped, with a warning
//   (istiod's "duplicate SNI host names").
// * TCP server: the first `tcp:` rule (in VS order) with no match or a match
//   passing the same port / gateways test becomes the one filter chain, with
//   no SNI condition. None => a warning, and connections are closed.
// * TLS server with mode SIMPLE / MUTUAL: the same tcp rule choice, in a
//   chain matched on the server's hosts (as an HTTPS server's SNI names) that
//   terminates TLS with the server's certificate (compile/tls_server_builder.h).
//
// As in istiod for gateways, destinationSubnets, sourceLabels and
// sourceNamespace of L4 matches are not evaluated; a warning says so.
#pragma once

#include <vector>

#include "compile/cluster_builder.h"
#include "compile/compiler.h"
#include "compile/diagnostic_sink.h"
#include "compile/gateway_merge.h"
#include "compile/vs_ordering.h"
#include "router/l4_route.h"

namespace torii::compile {

std::vector<router::L4Route> build_l4_routes(const MergedListener& listener,
                                             const VirtualServiceIndex& virtual_services,
                                             const GatewayIdentity& identity, ClusterBuilder& clusters,
                                             const config::ObjectList<config::Secret>& secrets,
                                             DiagnosticSink& diagnostics);

}  // namespace torii::compile
