#include "proxy/request_id.h"

#include <cstdint>

namespace torii::proxy {

std::string_view make_request_id(upstream::FastRandom& random, char (&out)[36]) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = random.next();
  uint64_t lo = random.next();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  uint8_t bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
    out[pos++] = kHex[bytes[i] >> 4];
    out[pos++] = kHex[bytes[i] & 0xF];
  }
  return {out, sizeof(out)};
}

}  // namespace torii::proxy
