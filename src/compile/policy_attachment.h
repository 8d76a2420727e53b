// Whether a security.istio.io policy (RequestAuthentication,
// AuthorizationPolicy) applies to this gateway, as istiod decides for a
// workload (pilot/pkg/model authentication.go, authorization.go,
// policyattachment.go; ISTIO_SECURITY.md §1):
//   - candidates from the gateway's namespace and the root namespace only;
//   - selector.matchLabels a subset of the gateway's labels (none: all);
//   - targetRef(s): ignored on a classic gateway (no
//     gateway.networking.k8s.io/gateway-name label); on a Gateway-API one,
//     kind Gateway named like that label, in the gateway's namespace.
#pragma once

#include <optional>
#include <vector>

#include "compile/compiler.h"
#include "config/resources.h"

namespace torii::compile {

bool policy_applies(const config::ObjectMeta& meta, const std::optional<config::Labels>& selector,
                    const std::vector<config::PolicyTargetRef>& target_refs, const GatewayIdentity& identity);

}  // namespace torii::compile
