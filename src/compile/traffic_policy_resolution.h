// The effective traffic policy of a cluster (host, port, subset), as istiod
// computes it (ISTIO_SEMANTICS §5.2; MergeSubsetTrafficPolicy and
// getPortLevelTrafficPolicy in pilot/pkg/networking/util, applyLoadBalancer /
// applyConnectionPool / applyOutlierDetection in ctp.go):
//
//   1. the DR's top-level trafficPolicy;
//   2. a top-level portLevelSettings entry for the service port replaces the
//      four groups loadBalancer/connectionPool/outlierDetection/tls (omitted
//      groups become unset, i.e. defaults — not inherited);
//   3. the subset's trafficPolicy, after its own port-level replacement,
//      overrides group-wise: each group it sets replaces the one from 1-2,
//      groups it leaves unset are kept;
//   4. Istio's defaults fill the rest (unlimited circuit breakers, 10 s
//      connect timeout, LEAST_REQUEST, outlier detection off, panic 50%).
//
// Pure functions; unit-tested in tests/compile/traffic_policy_resolution_test.cc.
#pragma once

#include <optional>
#include <string>

#include "compile/diagnostic_sink.h"
#include "compile/port_protocol.h"
#include "config/resources.h"
#include "upstream/cluster_policy.h"

namespace torii::compile {

class SecretLookup;

// Steps 1-3: the merged policy (nullopt when neither level has one).
std::optional<config::TrafficPolicy> merge_traffic_policy(const config::TrafficPolicy* top,
                                                          const config::TrafficPolicy* subset, uint32_t port);

// Step 4: Istio's translation of a merged policy into what the data plane
// enforces, for a port of `port_protocol` (which, with the policy, picks the
// upstream HTTP version). `diagnostics`/`rule` (optional) receive notes about settings
// Torii accepts but treats differently (PASSTHROUGH, tls, ...).
// `secrets` (optional) resolves `tls.credentialName`.
upstream::ClusterPolicy compile_cluster_policy(const config::TrafficPolicy* merged,
                                               DiagnosticSink* diagnostics = nullptr,
                                               const config::DestinationRule* rule = nullptr,
                                               const SecretLookup* secrets = nullptr,
                                               PortProtocol port_protocol = PortProtocol::Unsupported);

}  // namespace torii::compile
