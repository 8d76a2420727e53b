#include "proxy/l4_connection.h"

#include <sys/socket.h>

#include <cerrno>

#include "net/client_hello.h"
#include "net/socket_ops.h"
#include "proxy/worker.h"

namespace torii::proxy {

namespace {
// One peek buffer per worker thread: a ClientHello up to the limit, in
// records of at most 16 KiB + 5 header bytes each.
constexpr size_t kPeekBytes = net::kMaxClientHelloBytes + 5 * (net::kMaxClientHelloBytes / 16384 + 1);

char* peek_buffer() {
  thread_local std::unique_ptr<char[]> buffer(new char[kPeekBytes]);
  return buffer.get();
}

// A connection that never finished its ClientHello does not sit on the socket.
class NullConnectionCallbacks final : public net::ConnectionCallbacks {
 public:
  void on_data(net::Buffer& input) override { input.clear(); }
  void on_eof() override {}
  void on_close(net::CloseReason, int) override {}
};
NullConnectionCallbacks& null_callbacks() {
  thread_local NullConnectionCallbacks callbacks;
  return callbacks;
}
}  // namespace

L4Connection::L4Connection(Worker& worker, net::UniqueFd fd, std::string peer_ip, std::string listener_name,
                           compile::SnapshotPtr snapshot, const compile::Listener& listener)
    : worker_(worker),
      peer_ip_(std::move(peer_ip)),
      listener_name_(std::move(listener_name)),
      snapshot_(std::move(snapshot)),
      listener_(listener),
      watch_(worker.loop(), std::move(fd), EPOLLIN | EPOLLRDHUP | EPOLLET, *this),
      inspect_timer_(worker.loop(), [this] { on_inspect_timeout(); }) {}

L4Connection::~L4Connection() {
  tunnel_.reset();
  downstream_.reset();
}

void L4Connection::start() {
  WorkerStats::inc(worker_.mutable_stats().tcp_downstream_cx_total);
  if (!listener_.inspect_sni) {
    route({});
    return;
  }
  inspect_timer_.arm(worker_.options().tls_inspector_timeout_ms);
  peek();  // the ClientHello is often there already
}

void L4Connection::on_io(uint32_t /*events*/) {
  if (!finished_ && watch_.valid()) peek();
}

void L4Connection::peek() {
  char* buffer = peek_buffer();
  ssize_t n;
  do {
    n = ::recv(watch_.fd(), buffer, kPeekBytes, MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // wait for more
    close_now();
    return;
  }
  if (n == 0) {
    close_now();  // the client left before saying which server it wants
    return;
  }
  const net::ClientHelloInfo hello =
      net::parse_client_hello(std::string_view(buffer, static_cast<size_t>(n)));
  WorkerStats& stats = worker_.mutable_stats();
  switch (hello.status) {
    case net::ClientHelloInfo::Status::kNeedMore:
      if (static_cast<size_t>(n) >= kPeekBytes) {
        WorkerStats::inc(stats.tls_inspector_hello_too_large);
        close_now();
      }
      return;
    case net::ClientHelloInfo::Status::kTooLarge:
      WorkerStats::inc(stats.tls_inspector_hello_too_large);
      close_now();  // Envoy tls_inspector: client_hello_too_large closes
      return;
    case net::ClientHelloInfo::Status::kNotTls:
      WorkerStats::inc(stats.tls_inspector_tls_not_found);
      route({});
      return;
    case net::ClientHelloInfo::Status::kDone:
      route(hello.server_name);
      return;
  }
}

void L4Connection::on_inspect_timeout() {
  if (finished_) return;
  // Envoy's continue_on_listener_filters_timeout is false: close.
  WorkerStats::inc(worker_.mutable_stats().tls_inspector_timeout);
  close_now();
}

void L4Connection::route(std::string_view sni) {
  inspect_timer_.cancel();
  const compile::Listener::FilterChain chain = listener_.filter_chain_for(sni);
  if (chain.tls != nullptr) {
    // A terminated HTTPS server of this port: the HTTP side takes the
    // socket, with the ClientHello still unread in it.
    worker_.start_http(watch_.release(), peer_ip_, listener_name_);
    finish(/*handed_over=*/true);
    return;
  }
  if (chain.l4 == nullptr) {
    WorkerStats::inc(worker_.mutable_stats().tcp_downstream_cx_no_route);
    close_now();
    return;
  }
  if (snapshot_->authz_tcp && !authorized(sni)) {
    // Envoy's network RBAC: the connection is closed, no byte is relayed.
    close_now();
    return;
  }
  const router::L4Route& l4 = *chain.l4;
  const router::WeightedCluster& destination = l4.pick(worker_.clusters().random().next());
  downstream_ = std::make_unique<net::Connection>(worker_.loop(), watch_.release(), null_callbacks());
  // A TLS server with tcp routes: terminate here, relay the plaintext.
  if (l4.tls) downstream_->start_tls(std::make_unique<net::TlsSession>(l4.tls, ""));
  TcpTunnelTarget target;
  target.snapshot = snapshot_;
  target.cluster = destination.cluster;
  target.peer_ip = peer_ip_;
  if (destination.cluster != nullptr && destination.cluster->policy->tls.enabled)
    target.sni = destination.cluster->policy->tls.sni;  // TLS origination on a tcp route: DR sni
  tunnel_ = std::make_unique<TcpTunnel>(worker_, *downstream_, std::move(target), *this);
  tunnel_->start();
}

bool L4Connection::authorized(std::string_view sni) {
  security::AuthzRequest request;
  request.port = listener_.listen_port != 0 ? listener_.listen_port : listener_.gateway_port;
  request.source_ip = security::IpAddress::parse(peer_ip_);
  request.remote_ip = request.source_ip;  // no X-Forwarded-For on TCP
  request.sni = sni;
  if (snapshot_->authz_tcp->needs_destination_ip()) {
    sockaddr_storage local;
    if (net::local_address(watch_.fd(), local)) request.destination_ip = security::IpAddress::of(local);
  }
  const security::AuthzDecision decision = snapshot_->authz_tcp->evaluate(request);
  WorkerStats& stats = worker_.mutable_stats();
  if (decision.shadow_denied) WorkerStats::inc(stats.rbac_shadow_denied);
  WorkerStats::inc(decision.allowed ? stats.rbac_allowed : stats.rbac_denied);
  return decision.allowed;
}

void L4Connection::on_tunnel_closed(TcpTunnel& /*tunnel*/) { finish(/*handed_over=*/false); }

void L4Connection::close_now() {
  inspect_timer_.cancel();
  if (tunnel_) tunnel_->abort();
  if (downstream_) downstream_->close();
  watch_.reset();
  finish(/*handed_over=*/false);
}

void L4Connection::finish(bool handed_over) {
  if (finished_) return;
  finished_ = true;
  inspect_timer_.cancel();
  worker_.remove_l4_connection(*this, handed_over);
}

}  // namespace torii::proxy
