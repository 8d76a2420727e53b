// A route's CORS policy and the decisions of Envoy's CORS filter
// (extensions/filters/http/cors/cors_filter.cc) as istiod's
// TranslateCORSPolicy configures it:
//
// * A request with a non-empty Origin that one of allowOrigins matches (or
//   whose matchers accept "*") is a CORS request.
// * Preflight = OPTIONS + Origin + non-empty Access-Control-Request-Method.
//   It is answered by the gateway with 200 and the access-control-* headers
//   unless the origin does not match and unmatchedPreflights is FORWARD (the
//   default), in which case it goes upstream like any request. With IGNORE
//   an unmatched preflight is answered too, without allow-origin.
// * Other CORS requests go upstream; the response gets
//   access-control-allow-origin (the request's Origin), -allow-credentials
//   and -expose-headers when the origin matched.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"
#include "router/route_match.h"

namespace torii::router {

struct CorsPolicy {
  std::vector<StringMatcher> allow_origins;
  std::string allow_methods;   // joined with ","
  std::string allow_headers;   // joined with ","
  std::string expose_headers;  // joined with ","
  std::string max_age;         // seconds, as text; empty = not sent
  bool allow_credentials = false;
  bool forward_not_matching_preflights = true;  // unmatchedPreflights FORWARD (default)

  bool origin_allowed(std::string_view origin) const;
};

struct CorsDecision {
  enum class Kind {
    None,       // no Origin: not a CORS request
    Preflight,  // answer locally with preflight_headers()
    Forward,    // send upstream; add response headers if origin_allowed
  };
  Kind kind = Kind::None;
  bool origin_allowed = false;
};

CorsDecision decide_cors(const CorsPolicy& policy, std::string_view method, const http::HeaderMap& request);

// The headers of the gateway's 200 answer to a preflight.
void add_preflight_headers(const CorsPolicy& policy, const CorsDecision& decision,
                           const http::HeaderMap& request, http::HeaderMap& out);
// The access-control-* headers of an upstream response to an allowed origin.
void add_cors_response_headers(const CorsPolicy& policy, std::string_view origin, http::HeaderMap& response);

}  // namespace torii::router
