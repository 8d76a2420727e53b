// Envoy's response flags (%RESPONSE_FLAGS%, Istio's `response_flags` label)
// as a bitmask a stream raises while it runs; rendered only on scrape or
// log, so raising one is an OR into an integer.
#pragma once

#include <cstdint>
#include <string>

namespace torii::telemetry {

// Bit order is Envoy's flag table order (stream_info/utility.cc), which is
// the order several flags are printed in ("UF,URX").
enum ResponseFlag : uint32_t {
  kFailedLocalHealthCheck = 1u << 0,            // LH
  kNoHealthyUpstream = 1u << 1,                 // UH
  kUpstreamRequestTimeout = 1u << 2,            // UT
  kLocalReset = 1u << 3,                        // LR
  kUpstreamRemoteReset = 1u << 4,               // UR
  kUpstreamConnectionFailure = 1u << 5,         // UF
  kUpstreamConnectionTermination = 1u << 6,     // UC
  kUpstreamOverflow = 1u << 7,                  // UO
  kNoRouteFound = 1u << 8,                      // NR
  kDelayInjected = 1u << 9,                     // DI
  kFaultInjected = 1u << 10,                    // FI
  kRateLimited = 1u << 11,                      // RL
  kDownstreamConnectionTermination = 1u << 12,  // DC
  kUpstreamRetryLimitExceeded = 1u << 13,       // URX
  kStreamIdleTimeout = 1u << 14,                // SI
  kDownstreamProtocolError = 1u << 15,          // DPE
  kUpstreamProtocolError = 1u << 16,            // UPE
  kNoClusterFound = 1u << 17,                   // NC
  kDurationTimeout = 1u << 18,                  // DT
  kResponseFlagCount = 19,
};

// "UF,URX"; "-" when none (what Istio's label and Envoy's log print).
std::string response_flags_string(uint32_t flags);

}  // namespace torii::telemetry
