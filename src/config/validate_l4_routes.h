// Validation of VirtualService `tls:` and `tcp:` routes, as istiod's
// validateTLSRoute / validateTLSMatch / validateSniHost and validateTCPRoute
// / validateTCPMatch / validateRouteDestinations (pkg/config/validation).
#pragma once

#include <string>
#include <vector>

#include "config/resources.h"
#include "config/validate_common.h"

namespace torii::config {

void check_l4_routes(Report& report, const VirtualService& vs);

// validate_virtual_service.cc's gateway-name check (istiod validateGatewayNames).
void check_vs_gateway_names(Report& report, const std::string& field,
                            const std::vector<std::string>& gateways);

}  // namespace torii::config
