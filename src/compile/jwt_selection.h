// Which RequestAuthentications apply to this gateway and the JwtAuthn built
// from their jwtRules, as istiod does for a workload (pilot/pkg/model
// authentication.go, policyattachment.go; security/authn policy_applier.go):
//   - candidates from the gateway's namespace and the root namespace only;
//   - selector.matchLabels a subset of the gateway's labels (none: all);
//   - targetRef(s): ignored on a classic gateway (no
//     gateway.networking.k8s.io/gateway-name label); on a Gateway-API one,
//     kind Gateway named like that label, in the gateway's namespace;
//   - all applicable rules merged and sorted by issuer.
// JWKS: inline, or file:// read here (on the control thread). A JWKS that
// cannot be had fails closed: tokens of that issuer are rejected.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "compile/compiler.h"
#include "compile/diagnostic_sink.h"
#include "config/resources.h"
#include "security/jwt_authn.h"

namespace torii::compile {

// Null when no rule applies. `jwks_files` gets the file:// paths read.
std::shared_ptr<const security::JwtAuthn> build_jwt_authn(
    const std::vector<config::RequestAuthentication>& policies, const GatewayIdentity& identity,
    DiagnosticSink& diagnostics, std::set<std::string>& jwks_files);

}  // namespace torii::compile
