#include "proxy/connect_tunnel.h"

#include "proxy/local_reply.h"
#include "proxy/worker.h"

namespace torii::proxy {

ConnectTunnel::ConnectTunnel(Worker& worker, net::Connection& downstream, TcpTunnelTarget target,
                             std::shared_ptr<const upstream::ClusterInfo> keep,
                             std::function<void()> on_closed)
    : worker_(worker), downstream_(downstream), keep_(std::move(keep)), on_closed_(std::move(on_closed)) {
  tunnel_ = std::make_unique<TcpTunnel>(worker_, downstream_, std::move(target), *this);
}

ConnectTunnel::~ConnectTunnel() {
  if (tunnel_) tunnel_->abort();
}

void ConnectTunnel::start() { tunnel_->start(); }

void ConnectTunnel::abort() {
  if (tunnel_) tunnel_->abort();
}

void ConnectTunnel::on_tunnel_connected(TcpTunnel& /*tunnel*/) {
  // No content-length / transfer-encoding: after a 2xx to CONNECT the
  // connection is the tunnel (RFC 9110 9.3.6).
  net::Buffer& out = downstream_.output();
  out.append("HTTP/1.1 200 Connection established\r\ndate: ");
  out.append(worker_.date().now());
  out.append("\r\nserver: ");
  out.append(worker_.options().server_header);
  out.append("\r\n\r\n");
  worker_.mutable_stats().count_response(200);
}

void ConnectTunnel::on_tunnel_connect_failed(TcpTunnel& /*tunnel*/, TunnelFailure failure,
                                             std::string_view transport_failure) {
  LocalReply reply{503, {}, {}};
  switch (failure) {
    case TunnelFailure::NoCluster:
      break;  // 503 NC, empty body
    case TunnelFailure::Overflow:
      reply.body = kOverflow;
      reply.overloaded = true;
      break;
    case TunnelFailure::NoHealthyUpstream:
      reply.body = kNoHealthyUpstream;
      break;
    case TunnelFailure::ConnectFailed:
    case TunnelFailure::ConnectTimeout:
      failure_body_ = std::string(kConnectionFailure);
      if (!transport_failure.empty())
        failure_body_ += ", transport failure reason: " + std::string(transport_failure);
      reply.body = failure_body_;
      break;
  }
  LocalReplyContext context;
  context.server = worker_.options().server_header;
  context.date = worker_.date().now();
  context.close_connection = true;
  write_local_reply(downstream_.output(), reply, context);
  worker_.mutable_stats().count_response(503);
}

void ConnectTunnel::on_tunnel_closed(TcpTunnel& /*tunnel*/) {
  if (on_closed_) {
    auto done = std::move(on_closed_);
    on_closed_ = nullptr;
    done();
  }
}

}  // namespace torii::proxy
