// The part of ActiveStream that runs RequestAuthentication (Envoy's
// jwt_authn filter): before authorization and routing, so a bad token gets
// its 401/403 even on a host or path without a route (ISTIO_SECURITY.md §0).
#include <ctime>
#include <string>

#include "proxy/active_stream.h"
#include "proxy/downstream_stream.h"
#include "proxy/worker.h"
#include "security/jwt_status.h"

namespace torii::proxy {

namespace {

// Envoy cuts the realm's path at 256 characters (jwt_authn filter.cc).
constexpr size_t kRealmPathLimit = 256;

}  // namespace

bool ActiveStream::authenticate_jwt(std::string_view& path_and_query) {
  const security::JwtAuthn& authn = *snapshot_->jwt_authn;
  // bypass_cors_preflight (Istio sets it): OPTIONS with Origin and
  // Access-Control-Request-Method is not checked at all.
  if (head_.method == "OPTIONS" && head_.headers.has("origin") &&
      head_.headers.has("access-control-request-method")) {
    return true;
  }
  const security::JwtOutcome outcome = authn.authenticate(
      head_.headers, target_.query, static_cast<int64_t>(std::time(nullptr)), jwt_identity_);
  if (outcome.status != security::JwtStatus::Ok) {
    // www-authenticate: Bearer realm="<url as received>", error="invalid_token".
    const std::string_view* host = head_.headers.get("host");
    std::string value = "Bearer realm=\"";
    value += downstream_.is_tls() ? "https://" : "http://";
    if (host != nullptr) value += *host;
    value += path_and_query.substr(0, kRealmPathLimit);
    value += "\", error=\"invalid_token\"";
    http::HeaderMap extra;
    extra.add("www-authenticate", value);
    const std::string_view body = security::jwt_status_string(outcome.status);
    // Response code details as Envoy's: jwt_authn_access_denied{<status, spaces as _>}.
    std::string details = "jwt_authn_access_denied{";
    for (char c : body) details += c == ' ' ? '_' : c;
    details += '}';
    WorkerStats::inc(worker_.mutable_stats().jwt_authn_denied);
    send_local_reply(LocalReply{security::jwt_status_http_code(outcome.status), body, {}, &extra}, details);
    return false;
  }
  if (jwt_identity_.jwt) WorkerStats::inc(worker_.mutable_stats().jwt_authn_allowed);
  if (!outcome.remove_param.empty()) {
    // The verified query token is not forwarded (forwardOriginalToken false).
    std::string without = security::remove_query_param(path_and_query, outcome.remove_param);
    upstream_target_ = std::move(without);
    path_and_query = upstream_target_;
  }
  return true;
}

}  // namespace torii::proxy
