// The routes one VirtualService contributes to one Gateway server
// (istiod route.go BuildHTTPRoutesForVirtualService; ISTIO_SEMANTICS
// Appendix A, §3.4, §3.5).
//
// Each match block of each rule becomes one route (a rule without match one
// route with prefix "/"). Config-time conditions are applied here: a block
// with `port` other than the server's Gateway port, or whose `gateways` do not
// list this gateway, or (without `gateways`) whose sourceLabels /
// sourceNamespace do not fit this gateway process, is skipped. Translation of
// the VS stops after a catch-all route or a rule without match: later rules
// of that VS are unreachable in Envoy, and istiod drops them.
//
// Actions: weighted destinations with their header operations, rewrite,
// redirect and directResponse (compile/action_translation.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compile/cluster_builder.h"
#include "compile/compiler.h"
#include "compile/delegation.h"
#include "compile/diagnostic_sink.h"
#include "config/resources.h"
#include "router/route_table.h"

namespace torii::compile {

struct RouteTranslationContext {
  const GatewayIdentity& identity;
  const std::string& gateway;  // "ns/name" of the server's Gateway
  uint32_t server_port;        // the server's Gateway port.number
  ClusterBuilder& clusters;
  DiagnosticSink& diagnostics;
  bool tls = false;  // the server terminates TLS (redirect port defaults)
  // Origins of rules merged from delegates (compile/delegation.h); may be null.
  const std::unordered_map<const config::HTTPRoute*, RuleOrigin>* origins = nullptr;
};

std::vector<router::Route> translate_virtual_service(const config::VirtualService& vs,
                                                     const RouteTranslationContext& context);

}  // namespace torii::compile
