#include "router/route_action.h"

#include "router/route_match.h"

namespace torii::router {

namespace {

std::string_view path_only(std::string_view path_and_query) {
  size_t q = path_and_query.find('?');
  return q == std::string_view::npos ? path_and_query : path_and_query.substr(0, q);
}

// Envoy processRequestHost: the request's Host, without its port when a new
// port is given, or when the scheme changes and the port is the default one
// of the request's protocol (so http://a.com:80 -> https://a.com).
std::string_view redirect_host(std::string_view host, std::string_view new_scheme, std::string_view new_port,
                               std::string_view request_protocol) {
  if (host.empty()) return host;
  size_t host_end;
  if (host.front() == '[') {
    host_end = host.rfind("]:");
    if (host_end != std::string_view::npos) host_end += 1;
  } else {
    host_end = host.rfind(':');
  }
  if (host_end == std::string_view::npos) return host;
  std::string_view request_port = host.substr(host_end);
  bool remove_port = !new_port.empty();
  if (new_scheme != request_protocol) {
    remove_port |= http::iequals(request_protocol, "https") && request_port == ":443";
    remove_port |= http::iequals(request_protocol, "http") && request_port == ":80";
  }
  return remove_port ? host.substr(0, host_end) : host;
}

}  // namespace

void HeaderOps::apply(http::HeaderMap& headers) const {
  for (const std::string& name : remove) headers.remove(name);
  for (const Op& op : ops) {
    if (op.append) {
      headers.add(op.name, op.value);
    } else {
      headers.set(op.name, op.value);
    }
  }
}

void HeaderOps::append(const HeaderOps& other) {
  remove.insert(remove.end(), other.remove.begin(), other.remove.end());
  ops.insert(ops.end(), other.ops.begin(), other.ops.end());
}

bool rewrite_path(const PathRewrite& rewrite, const StringMatcher& path_match,
                  std::string_view path_and_query, std::string& out) {
  const std::string_view path = path_only(path_and_query);
  switch (rewrite.kind) {
    case PathRewrite::Kind::None:
      return false;
    case PathRewrite::Kind::Prefix: {
      // Envoy currentUrlPathAfterRewriteWithMatchedPath: the matched part is
      // the configured prefix (same length whatever the case), or the whole
      // path for exact and regex matches.
      size_t matched = path_match.kind == StringMatcher::Kind::Prefix ? path_match.value.size() : path.size();
      if (matched > path.size()) matched = path.size();
      out = rewrite.replacement;
      out.append(path_and_query.substr(matched));
      return true;
    }
    case PathRewrite::Kind::Regex: {
      if (rewrite.regex == nullptr) return false;
      std::string new_path(path);
      re2::RE2::GlobalReplace(&new_path, *rewrite.regex, rewrite.replacement);
      out = std::move(new_path);
      out.append(path_and_query.substr(path.size()));
      return true;
    }
  }
  return false;
}

std::string redirect_location(const RedirectAction& redirect, const StringMatcher& path_match,
                              const RedirectRequest& request) {
  const std::string_view scheme =
      redirect.scheme.empty() ? request.scheme : std::string_view(redirect.scheme);
  const std::string_view host =
      redirect.host.empty() ? redirect_host(request.host, scheme, redirect.port, request.forwarded_proto)
                            : std::string_view(redirect.host);

  // The request path after a prefix rewrite (Envoy rewrites :path first).
  std::string rewritten;
  std::string_view current = request.path_and_query;
  if (redirect.prefix_rewrite) {
    PathRewrite prefix{PathRewrite::Kind::Prefix, redirect.path_prefix, nullptr};
    if (rewrite_path(prefix, path_match, current, rewritten)) current = rewritten;
  }

  std::string path;
  if (!redirect.path.empty()) {
    path = redirect.path;
    // A new path without its own query keeps the request's query.
    if (redirect.path.find('?') == std::string::npos) {
      size_t q = current.find('?');
      if (q != std::string_view::npos) path.append(current.substr(q));
    }
  } else {
    path = current;
  }
  if (!path.starts_with('/')) path.insert(path.begin(), '/');

  std::string location;
  location.reserve(scheme.size() + 3 + host.size() + redirect.port.size() + path.size());
  location.append(scheme).append("://").append(host).append(redirect.port).append(path);
  return location;
}

std::string direct_response_location(int status, const RedirectRequest& request) {
  if (status != 201 && (status < 300 || status > 399)) return {};
  static const StringMatcher kAnyPath{StringMatcher::Kind::Prefix, "/", nullptr, false};
  return redirect_location(RedirectAction{}, kAnyPath, request);
}

}  // namespace torii::router
