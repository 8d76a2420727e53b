// Envoy's response flags as Istio's `response_flags` label and Envoy's
// %RESPONSE_FLAGS% print them. The flags themselves (bits a stream raises
// while it runs) are proxy::flag, in proxy/stream_info.h: one table for the
// access log and the metrics.
#pragma once

#include <cstdint>
#include <string>

#include "proxy/stream_info.h"

namespace torii::telemetry {

// "UF,URX" (Envoy's order); "-" when none.
std::string response_flags_string(uint32_t flags);

}  // namespace torii::telemetry
