// Which Telemetry resource's accessLogging applies to this gateway, as
// istiod resolves it for a workload (pilot/pkg/model/telemetry.go), reduced
// to one access log:
//   1. a Telemetry in the gateway's namespace whose selector.matchLabels
//      match the gateway's labels, else
//   2. one without selector in the gateway's namespace, else
//   3. one without selector in the root namespace (istio-system).
// The most specific one that has accessLogging wins (several at one level:
// the first loaded; istiod takes the oldest and warns). In it, the first
// rule that applies to a gateway (match.mode not SERVER: a gateway is a
// CLIENT) decides: `disabled` turns the log off, `filter.expression` picks
// what is logged.
#pragma once

#include <vector>

#include "compile/compiler.h"
#include "compile/snapshot.h"
#include "config/resources.h"

namespace torii::compile {

inline constexpr std::string_view kRootNamespace = "istio-system";

AccessLogPolicy select_access_log(const config::ObjectList<config::Telemetry>& telemetries,
                                  const GatewayIdentity& identity);

// The same selection for `tracing`: the most specific Telemetry that has
// tracing rules, and in it the first rule that applies to a gateway.
TracingPolicy select_tracing(const config::ObjectList<config::Telemetry>& telemetries,
                             const GatewayIdentity& identity);

}  // namespace torii::compile
