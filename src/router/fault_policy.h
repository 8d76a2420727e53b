// A route's fault injection (Envoy's HTTP fault filter as istiod's
// TranslateFault configures it): a fixed delay and/or an abort, each applied
// to a fraction of requests. Percentages are kept in parts per million, as
// Envoy's FractionalPercent MILLION that istiod emits (value * 10000,
// truncated).
#pragma once

#include <cstdint>
#include <optional>

namespace torii::router {

struct FaultPolicy {
  bool has_delay = false;
  uint64_t delay_ms = 0;
  uint32_t delay_per_million = 0;

  bool has_abort = false;
  int http_status = 0;             // HTTP status of the abort (200 for a gRPC abort)
  std::optional<int> grpc_status;  // gRPC abort: the code sent in grpc-status
  uint32_t abort_per_million = 0;
};

// istiod translatePercentToFractionalPercent: uint32(value * 10000) per million.
uint32_t percent_to_per_million(double percent);
// Envoy's featureEnabled for a FractionalPercent: `random` mod 1e6 below the
// numerator. 0 never hits, 1e6 always does.
bool fraction_hit(uint32_t per_million, uint64_t random);

}  // namespace torii::router
