// Compiled request conditions of one route (Envoy's RouteMatch): path matcher
// plus header / query parameter matchers. Regexes are compiled once (RE2, full
// match, as Istio requires).
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace torii::router {

struct RequestView;

// A compiled Istio StringMatch.
struct StringMatcher {
  enum class Kind { Exact, Prefix, Regex, Presence };
  Kind kind = Kind::Presence;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;  // Kind::Regex only
  bool ignore_case = false;               // exact/prefix only (ignoreUriCase)
  bool matches(std::string_view input) const;
};

// "exact", "prefix", "regex", "present": as /config_dump and the dashboard name them.
const char* kind_name(StringMatcher::Kind kind);

// Where a header matcher reads its value. Envoy matches pseudo-headers like
// any other header; Torii keeps them as RequestView fields, so which one a
// matcher reads is decided when it is built (header_source), never by
// comparing names per request.
enum class HeaderSource : uint8_t {
  Header,     // a request header named `name`
  Method,     // :method
  Authority,  // :authority (the Host after the gateway's edge edits)
  Path,       // :path (path and query as received)
  Scheme,     // :scheme (http or https of the downstream connection)
  None,       // a pseudo-header no request carries (:status, unknown ':' names)
  JwtClaim,   // "@request.auth.claims.a.b": a claim of the verified JWT (`claim_path`)
};

// The source for a lower-case header name.
HeaderSource header_source(std::string_view name);

// The value of a pseudo-header source (Method, Authority, Path, Scheme) in
// `request`; false for an absent one and for the other sources.
bool pseudo_header(const RequestView& request, HeaderSource source, std::string_view* value);

// A claim of the request's verified JWT as text (a string as it is, other
// values as JSON), for explanations; nullopt without a token or claim.
std::optional<std::string> claim_text(const RequestView& request, const std::vector<std::string>& path);

struct HeaderMatcher {
  std::string name;  // lower-case
  StringMatcher value;
  bool invert = false;  // withoutHeaders
  // withoutHeaders with a value form: a missing header counts as "" (Envoy's
  // treat_missing_header_as_empty), so it satisfies the inverted matcher.
  bool treat_missing_as_empty = false;
  HeaderSource source = HeaderSource::Header;  // header_source(name)
  // JwtClaim: the claim's path in the token payload ({"org", "team"}). A
  // string claim is matched as the value; a list claim matches when any
  // string element does; no token, a missing claim or another type: absent
  // (Istio routes on claims at gateways through jwt_authn's metadata).
  std::vector<std::string> claim_path;
  // Envoy HeaderUtility::matchHeaders semantics: repeated headers are matched
  // as their ','-joined value; pseudo-headers come from the RequestView
  // fields. Allocates only when the header is repeated.
  bool matches(const RequestView& request) const;
};

struct QueryParamMatcher {
  std::string name;
  StringMatcher value;
  // `query` is the raw query string (after '?'). The first occurrence of the
  // key counts (Envoy); `?key` without '=' has the empty value. No
  // percent-decoding.
  bool matches(std::string_view query) const;
};

struct RouteMatch {
  StringMatcher path;  // no uri => prefix "/"
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParamMatcher> query_params;

  bool matches(const RequestView& request) const;
  // Envoy/Istio catch-all: prefix "/" (or "") or regex ".*", with no header
  // or query matchers (Istio IsCatchAllRoute).
  bool is_catch_all() const;
};

}  // namespace torii::router
