// Validation of the policy fields of a VirtualService HTTP rule (fault,
// mirror / mirrors, corsPolicy, retry backoff), as istiod's
// validateHTTPFaultInjection, validateHTTPMirrors, validateCORSPolicy.
#pragma once

#include <string>

#include "config/resources.h"
#include "config/validate_common.h"

namespace torii::config {

// `field` is the rule's path, e.g. "spec.http[0]".
void check_route_policies(Report& report, const std::string& field, const HTTPRoute& route);

// gRPC status code names istiod accepts for abort.grpcStatus -> code; -1 if unknown.
int grpc_status_code(std::string_view name);

}  // namespace torii::config
