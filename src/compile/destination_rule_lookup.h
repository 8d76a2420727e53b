// Which DestinationRule applies to a service at this gateway
// (PushContext.destinationRule; ISTIO_SEMANTICS §5.1). Only subsets are used
// by this issue; traffic policies come later and will hang off the same
// lookup.
//
// Order: (1) DRs in the gateway's namespace, any exportTo — but when the
// gateway runs in the root namespace only the root namespace's private DRs;
// (2) DRs in the service's namespace exported to the gateway's namespace;
// (3) DRs in the root namespace exported to it. Inside a step the most
// specific host wins (exact, else the longest covering wildcard) and a step
// that finds a host never falls back to a less specific one. Namespace order
// beats specificity: a `*.svc.cluster.local` DR in the gateway namespace wins
// over an exact-host DR in the service namespace.
//
// DRs for the same host in one namespace (and with the same exportTo) are
// merged: subsets concatenated oldest first, the first definition of a subset
// name wins.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compile/compiler.h"
#include "compile/diagnostic_sink.h"
#include "config/resources.h"

namespace torii::compile {

struct AppliedDestinationRule {
  std::string host;  // resolved DR host
  std::string namespace_;
  std::vector<std::string> export_to;                 // as written by the first DR
  std::vector<const config::DestinationRule*> rules;  // merged, oldest first
  std::vector<config::Subset> subsets;                // first definition of each name
  // The top-level trafficPolicy in force: the oldest merged DR's, or the
  // first later one that has one (istiod mergeDestinationRule). Null: none.
  const config::TrafficPolicy* traffic_policy = nullptr;
  const config::DestinationRule* traffic_policy_rule = nullptr;

  const config::Subset* find_subset(std::string_view name) const;
};

class DestinationRuleIndex {
 public:
  DestinationRuleIndex(const config::ObjectList<config::DestinationRule>& rules,
                       const GatewayIdentity& identity, DiagnosticSink& diagnostics);
  DestinationRuleIndex(const DestinationRuleIndex&) = delete;
  DestinationRuleIndex& operator=(const DestinationRuleIndex&) = delete;

  // nullptr => no DR applies (defaults; no subsets exist).
  const AppliedDestinationRule* lookup(std::string_view service_host,
                                       std::string_view service_namespace) const;

 private:
  enum class Scope { Any, PrivateOnly, Exported };
  const AppliedDestinationRule* find_in(const std::string& ns, std::string_view service_host,
                                        Scope scope) const;

  std::unordered_map<std::string, std::vector<AppliedDestinationRule>> by_namespace_;
  std::string proxy_namespace_;
  std::string root_namespace_;
};

}  // namespace torii::compile
