// The AuthorizationPolicies that apply to this gateway (policy_attachment.h)
// compiled into a security::AuthzEngine (ISTIO_SECURITY.md §1-§9):
//   - CUSTOM has no external authorizer in Torii; as istiod does when the
//     provider is missing from meshConfig, its rules become DENY rules
//     (fail closed), with a warning;
//   - annotation istio.io/dry-run: "true" makes a policy shadow-only;
//   - peer identities (principals, namespaces, service accounts,
//     source.principal, ...) never exist at a standalone gateway: positive
//     forms never match, not-forms always do.
#pragma once

#include <memory>
#include <vector>

#include "compile/compiler.h"
#include "compile/diagnostic_sink.h"
#include "config/resources.h"
#include "security/authz.h"

namespace torii::compile {

// Null when no policy applies (every request is allowed, nothing to evaluate).
std::shared_ptr<const security::AuthzEngine> build_authz(
    const config::ObjectList<config::AuthorizationPolicy>& policies, const GatewayIdentity& identity,
    DiagnosticSink& diagnostics);

// One AuthorizationPolicy's rules as the engine evaluates them.
std::vector<security::AuthzRule> compile_authz_rules(const config::AuthorizationPolicy& policy);

}  // namespace torii::compile
