// base64url (RFC 4648 §5) decoding for JWT segments and JWK members, and the
// lenient base64 of protobuf JSON `bytes` fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace torii::security {

// Decodes base64url without padding (padding '=' is accepted at the end, as
// Envoy's Base64Url::decode does not, but JWKs in the wild carry it).
// nullopt: a character outside the alphabet or an impossible length.
std::optional<std::string> base64url_decode(std::string_view in);
std::string base64url_encode(std::string_view in);
// Standard or URL-safe alphabet, padding optional, leftover bits ignored: what
// protobuf JSON accepts for `bytes` fields (and Kubernetes for Secret data).
std::optional<std::string> base64_decode_either(std::string_view in);

}  // namespace torii::security
