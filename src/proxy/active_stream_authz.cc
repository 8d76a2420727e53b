// The part of ActiveStream that enforces AuthorizationPolicy (Envoy's RBAC
// filters at an Istio gateway): after jwt_authn, before the router
// (ISTIO_SECURITY.md §0, §8; docs/authorization.md).
#include "proxy/active_stream.h"
#include "proxy/downstream_stream.h"
#include "proxy/worker.h"
#include "security/authz.h"

namespace torii::proxy {

namespace {

// Envoy's RBAC deny: 403, exactly this body (rbac_filter.cc).
constexpr std::string_view kRbacDenied = "RBAC: access denied";

}  // namespace

bool ActiveStream::authorize(const router::RequestView& view, const compile::Listener* listener) {
  const security::AuthzEngine& engine = *snapshot_->authz;
  security::AuthzRequest request;
  request.method = head_.method;
  request.host = view.authority;
  request.path = view.path;
  if (listener != nullptr)
    request.port = listener->listen_port != 0 ? listener->listen_port : listener->gateway_port;
  request.source_ip = security::IpAddress::parse(downstream_.peer_ip());
  request.remote_ip =
      remote_address_.empty() ? request.source_ip : security::IpAddress::parse(remote_address_);
  request.sni = downstream_.is_tls() ? downstream_.server_name() : std::string_view();
  if (engine.needs_destination_ip()) {
    sockaddr_storage local;  // not zeroed up front: 128 bytes on every request otherwise
    if (downstream_.local_address(local)) request.destination_ip = security::IpAddress::of(local);
  }
  request.headers = &head_.headers;
  request.jwt = jwt_identity_.jwt.get();
  const security::AuthzDecision decision = engine.evaluate(request);
  WorkerStats& stats = worker_.mutable_stats();
  if (decision.shadow_denied) WorkerStats::inc(stats.rbac_shadow_denied);
  if (decision.allowed) {
    WorkerStats::inc(stats.rbac_allowed);
    return true;
  }
  WorkerStats::inc(stats.rbac_denied);
  send_local_reply(LocalReply{403, kRbacDenied, {}}, security::rbac_denied_details(decision));
  return false;
}

}  // namespace torii::proxy
