#include "telemetry/response_flags.h"

namespace torii::telemetry {

std::string response_flags_string(uint32_t flags) {
  if (flags == 0) return "-";
  std::string out;
  for (int i = 0; i < proxy::kResponseFlagCount; ++i) {
    if ((flags & (1u << i)) == 0) continue;
    if (!out.empty()) out += ',';
    out += proxy::kResponseFlagShort[i];
  }
  return out;
}

}  // namespace torii::telemetry
