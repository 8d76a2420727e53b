// The consistent-hash key of one request under a cluster's HashPolicy
// (Envoy route hash policies as Istio sets them, route.go
// consistentHashToHashPolicy):
//
// * header:  xxHash64 of the header's value (all values joined by ",");
// * cookie:  xxHash64 of the cookie's value; when the request has none and
//   the policy has a ttl, the gateway makes one up and asks for it to be
//   set on the response: `name="<16 hex>"; Max-Age=<ttl s>; Path=<path>;
//   <attributes>; HttpOnly` (Envoy makeSetCookieValue; ttl 0 => no Max-Age,
//   a session cookie). Like Envoy the value is derived from the downstream
//   connection's addresses, so streams of one connection agree on it;
// * source IP: xxHash64 of the client address text;
// * query parameter: xxHash64 of the first value of that parameter.
//
// No key (header / cookie / parameter absent) => nullopt, and the balancer
// picks at random, as Envoy does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/header_map.h"
#include "upstream/cluster_policy.h"

namespace torii::upstream {

struct RequestHashInput {
  const http::HeaderMap* headers = nullptr;
  std::string_view path_and_query;
  std::string_view peer_ip;        // downstream client address
  std::string_view connection_id;  // stable per downstream connection (cookie generation)
};

// `set_cookie` (may be null) receives a Set-Cookie value when the gateway
// generated the cookie.
std::optional<uint64_t> request_hash(const HashPolicy& policy, const RequestHashInput& input,
                                     std::string* set_cookie);

// The value of cookie `name` in the request's Cookie headers ("" if none).
std::string cookie_value(const http::HeaderMap& headers, std::string_view name);

}  // namespace torii::upstream
