// Which RequestAuthentications apply to this gateway (policy_attachment.h)
// and the JwtAuthn built from their jwtRules, as istiod does for a workload
// (security/authn policy_applier.go): all applicable rules merged and sorted
// by issuer.
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
    const config::ObjectList<config::RequestAuthentication>& policies, const GatewayIdentity& identity,
    DiagnosticSink& diagnostics, std::set<std::string>& jwks_files);

}  // namespace torii::compile
