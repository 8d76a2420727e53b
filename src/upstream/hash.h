// The hash every consistent-hash decision uses: xxHash64 (Envoy's
// HashUtil::xxHash64), seed 0 unless said otherwise. Stable across processes,
// machines and releases of libxxhash, so keys map the same way on every
// worker and after every reload.
#pragma once

// Header-only use of libxxhash (Debian libxxhash-dev): no link dependency.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace torii::upstream {

inline uint64_t xxhash64(std::string_view data, uint64_t seed = 0) {
  return XXH64(data.data(), data.size(), seed);
}

}  // namespace torii::upstream
