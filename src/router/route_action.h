// What a matched route does besides picking a cluster (ISTIO_SEMANTICS §3.6,
// §3.11): header operations, path and authority rewrites, redirects and
// direct responses. Compiled once by the compiler; the functions here are
// pure (no sockets), so the proxy, `torii explain` and the tests share them.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/header_map.h"

namespace torii::router {

struct StringMatcher;

// One direction of Istio `headers.request|response` (Envoy HeaderParser):
// every `remove` first, then `set` (overwrite or add) and `add` (one more
// field) in order. istiod emits set before add, each sorted by name.
struct HeaderOps {
  struct Op {
    std::string name;  // lower-case
    std::string value;
    bool append = false;  // `add`; false = `set`
  };
  std::vector<std::string> remove;  // lower-case
  std::vector<Op> ops;

  bool empty() const { return remove.empty() && ops.empty(); }
  void apply(http::HeaderMap& headers) const;
  // Concatenates `other` (Envoy applies one parser: all removes, then all ops).
  void append(const HeaderOps& other);
};

// Header operations of one level (the rule, or one weighted destination).
struct HeaderMutations {
  HeaderOps request;
  HeaderOps response;
  // `rewrite.authority` or `headers.request.set|add[":authority"|"host"]`
  // (Envoy host_rewrite_literal); empty = none.
  std::string host_rewrite;

  bool empty() const { return request.empty() && response.empty() && host_rewrite.empty(); }
};

// rewrite.uri (Envoy prefix_rewrite) or rewrite.uriRegexRewrite (regex_rewrite).
struct PathRewrite {
  enum class Kind { None, Prefix, Regex };
  Kind kind = Kind::None;
  std::string replacement;                // the new prefix, or the RE2 substitution (\1 ...)
  std::shared_ptr<const re2::RE2> regex;  // Kind::Regex
};

// The new origin-form target (path and query) for `path_and_query` under
// `rewrite`, as Envoy computes it: a prefix rewrite replaces the part of the
// path the route's path matcher matched (the prefix for a prefix match, the
// whole path for an exact or regex match); a regex rewrite substitutes every
// match in the path. The query string is kept either way. Returns false (and
// leaves `out` alone) when nothing is to be rewritten.
bool rewrite_path(const PathRewrite& rewrite, const StringMatcher& path_match,
                  std::string_view path_and_query, std::string& out);

// VirtualService `redirect` (Envoy RedirectAction as istiod ApplyRedirect builds it).
struct RedirectAction {
  int status = 301;             // 301, 302, 303, 307 or 308
  std::string scheme;           // "" = the request's
  std::string host;             // "" = the request's Host (port handling below)
  std::string port;             // ":8080"; "" = none (istiod already dropped :80 on http / :443 on https)
  std::string path;             // `uri`: replaces the path; "" = keep
  bool prefix_rewrite = false;  // `prefixRewrite`: replace the matched prefix with `path_prefix`
  std::string path_prefix;
};

struct RedirectRequest {
  std::string_view scheme;           // the request's scheme ("http"/"https")
  std::string_view host;             // Host as received
  std::string_view forwarded_proto;  // x-forwarded-proto as the gateway set it
  std::string_view path_and_query;
};

// Envoy Http::Utility::newUri: scheme, host (the request's Host loses its
// port when a new port is given, or when it is the default port of the
// request's protocol and the scheme changes), port, path (a new path keeps the
// request's query unless it has its own).
std::string redirect_location(const RedirectAction& redirect, const StringMatcher& path_match,
                              const RedirectRequest& request);

// VirtualService `directResponse`.
struct DirectResponseAction {
  int status = 200;
  std::string body;
};

// Envoy adds `location: <request URL>` to a direct response whose status is
// 201 or 3xx (router.cc, RFC 7231 7.1.2); empty for other statuses.
std::string direct_response_location(int status, const RedirectRequest& request);

}  // namespace torii::router
