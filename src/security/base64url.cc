#include "security/base64url.h"

#include <array>
#include <cstdint>

namespace torii::security {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_table(bool standard_too) {
  std::array<int8_t, 256> t{};
  for (int8_t& v : t) v = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  if (standard_too) {
    t['+'] = 62;
    t['/'] = 63;
  }
  return t;
}

constexpr std::array<int8_t, 256> kUrlTable = make_table(false);
constexpr std::array<int8_t, 256> kEitherTable = make_table(true);

std::optional<std::string> decode(std::string_view in, const std::array<int8_t, 256>& table, bool canonical) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (canonical && bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

// Leftover bits must be zero (a canonical encoding), as Envoy checks.
std::optional<std::string> base64url_decode(std::string_view in) { return decode(in, kUrlTable, true); }

std::optional<std::string> base64_decode_either(std::string_view in) {
  return decode(in, kEitherTable, false);
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

}  // namespace torii::security
