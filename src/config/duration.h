// Duration strings as Istio reads them.
//
// Istio's protobuf JSON reader accepts Go's time.ParseDuration syntax, so
// "1.5s", "100ms", "1m30s" and "1h" are all valid (protobuf's canonical form
// is only "<seconds>[.<fraction>]s", a subset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace torii::config {

// Nanoseconds, or nullopt with `*error` set ("missing unit in duration", ...).
// Nanoseconds rather than milliseconds so callers can reject sub-millisecond
// precision the way istiod does.
std::optional<int64_t> parse_duration_ns(std::string_view text, std::string* error = nullptr);

}  // namespace torii::config
