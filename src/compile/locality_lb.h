// Locality load balancing (ISTIO_SEMANTICS §5.4; pilot/pkg/networking/core/
// loadbalancer/loadbalancer.go ApplyLocalityLoadBalancer) applied to one
// cluster's endpoints at compile time:
//
// * `distribute`: the first rule whose `from` matches the gateway's locality
//   sets each endpoint's lb_weight so that each `to` locality gets its share
//   (split over its endpoints by their weights); endpoints in localities no
//   `to` entry names get no traffic (removed), as Istio empties them.
// * failover (only with outlier detection, as in Istio): priority 0 = same
//   region/zone/subzone as the gateway, 1 = same region/zone, 2 = same region,
//   3 = other regions, 4 = other regions that are not the `failover.to` of
//   the gateway's region; with `failoverPriority`, labels matched in order
//   (the gateway's own labels, or `key=value`) come first. Gaps are closed.
//
// The gateway's locality comes from --locality; without it nothing applies
// (Istio would compare against an empty locality and put every endpoint
// that has one in the lowest priority, which is never what a user wants).
#pragma once

#include <string>
#include <vector>

#include "compile/compiler.h"
#include "config/resources.h"
#include "upstream/cluster_info.h"

namespace torii::compile {

struct LocalityOutcome {
  bool distributed = false;  // lb weights set by a distribute rule
  bool failover = false;     // priorities assigned
  size_t removed = 0;        // endpoints in localities a distribute rule leaves out
};

// `setting` is the DR's localityLbSetting, or null for the mesh default
// (enabled, no rules).
LocalityOutcome apply_locality_lb(std::vector<upstream::Endpoint>& endpoints,
                                  const config::LocalityLbSetting* setting, bool outlier_detection,
                                  const GatewayIdentity& identity);

// "region/zone/subzone" from topology labels (topology.kubernetes.io/region,
// .../zone, topology.istio.io/subzone) or the `istio-locality` label
// ("region.zone.subzone"); "" when none is present.
std::string locality_from_labels(const config::Labels& labels);

}  // namespace torii::compile
