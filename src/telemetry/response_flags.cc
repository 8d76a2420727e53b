#include "telemetry/response_flags.h"

namespace torii::telemetry {

std::string response_flags_string(uint32_t flags) {
  static constexpr const char* kShort[kResponseFlagCount] = {"LH", "UH",  "UT",  "LR", "UR", "UF", "UC",
                                                             "UO", "NR",  "DI",  "FI", "RL", "DC", "URX",
                                                             "SI", "DPE", "UPE", "NC", "DT"};
  if (flags == 0) return "-";
  std::string out;
  for (uint32_t i = 0; i < kResponseFlagCount; ++i) {
    if ((flags & (1u << i)) == 0) continue;
    if (!out.empty()) out += ',';
    out += kShort[i];
  }
  return out;
}

}  // namespace torii::telemetry
