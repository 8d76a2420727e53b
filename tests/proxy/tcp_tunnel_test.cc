// TcpTunnel as a CONNECT owner uses it (proxy/tcp_tunnel.h): the owner keeps
// the downstream connection, answers in on_tunnel_connected /
// on_tunnel_connect_failed before any relayed byte, passes bytes it already
// holds via start(initial), and is told once everything is over.
// In process: the worker's loop runs on the test thread, the client and the
// upstream are plain blocking sockets on helper threads.
#include "proxy/tcp_tunnel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "net/socket_ops.h"
#include "proxy/worker.h"
#include "reserved_ports.h"

namespace torii::proxy {
namespace {

// Accepts one connection, echoes until the client's FIN, then says "|BYE" and closes.
class EchoOnce {
 public:
  EchoOnce() {
    std::string error;
    listen_ = net::listen_tcp("127.0.0.1", 0, false, 4, error);
    port_ = net::local_port(listen_.get());
    thread_ = std::thread([this] {
      // The listening socket is non-blocking: wait (bounded) for the connection.
      pollfd p{listen_.get(), POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return;
      int fd = ::accept(listen_.get(), nullptr, nullptr);
      if (fd < 0) return;
      char buf[4096];
      for (;;) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        received_.append(buf, static_cast<size_t>(n));
        (void)!::write(fd, buf, static_cast<size_t>(n));
      }
      (void)!::write(fd, "|BYE", 4);
      ::close(fd);
    });
  }
  ~EchoOnce() { thread_.join(); }
  uint16_t port() const { return port_; }
  const std::string& received() const { return received_; }

 private:
  net::UniqueFd listen_;
  uint16_t port_ = 0;
  std::string received_;
  std::thread thread_;
};

std::unique_ptr<upstream::ClusterInfo> cluster_at(uint16_t port) {
  auto c = std::make_unique<upstream::ClusterInfo>();
  c->name = "outbound|443||target.test";
  c->connect_timeout_ms = 1000;
  upstream::Endpoint e;
  e.address = "127.0.0.1";
  e.port = port;
  upstream::resolve_numeric(e);
  c->endpoints.push_back(e);
  return c;
}

// What a CONNECT handler would be: owns the downstream connection.
struct Owner : TcpTunnelCallbacks, net::ConnectionCallbacks {
  Worker& worker;
  std::unique_ptr<net::Connection> downstream;
  std::unique_ptr<TcpTunnel> tunnel;
  bool connected = false;
  bool failed = false;
  TunnelFailure failure = TunnelFailure::NoCluster;
  bool closed = false;

  Owner(Worker& w, net::UniqueFd fd) : worker(w) {
    downstream = std::make_unique<net::Connection>(w.loop(), std::move(fd), *this);
  }
  void on_tunnel_connected(TcpTunnel&) override {
    connected = true;
    downstream->output().append("HTTP/1.1 200 OK\r\n\r\n");
  }
  void on_tunnel_connect_failed(TcpTunnel&, TunnelFailure f, std::string_view) override {
    failed = true;
    failure = f;
    downstream->output().append("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
  }
  void on_tunnel_closed(TcpTunnel&) override {
    closed = true;
    worker.loop().stop();
  }
  // Before the tunnel takes over (unused here).
  void on_data(net::Buffer&) override {}
  void on_eof() override {}
  void on_close(net::CloseReason, int) override {}
};

// Sends `payload`, half-closes, reads to EOF.
std::string talk(int fd, const std::string& payload) {
  if (!payload.empty()) (void)!::write(fd, payload.data(), payload.size());
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void run_loop(Worker& worker) {
  net::Timer guard(worker.loop(), [&] { worker.loop().stop(); });
  guard.arm(5000);
  worker.loop().run();
}

TEST(TcpTunnelTest, OwnerAnswersFirstThenBytesFlowWithHalfClose) {
  EchoOnce upstream;
  auto cluster = cluster_at(upstream.port());
  ServerOptions options;
  Worker worker(0, options);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
  Owner owner(worker, net::UniqueFd(pair[0]));
  TcpTunnelTarget target;
  target.cluster = cluster.get();
  owner.tunnel = std::make_unique<TcpTunnel>(worker, *owner.downstream, std::move(target), owner);
  net::Buffer early;
  early.append("early:");
  owner.tunnel->start(std::move(early));

  const int client = pair[1];
  std::string reply;
  std::thread talker([&] {
    // Blocking I/O on the client end.
    int fl = ::fcntl(client, F_GETFL);
    ::fcntl(client, F_SETFL, fl & ~O_NONBLOCK);
    reply = talk(client, "hello");
  });
  run_loop(worker);
  talker.join();
  ::close(client);
  EXPECT_TRUE(owner.connected);
  EXPECT_FALSE(owner.failed);
  EXPECT_TRUE(owner.closed);
  // The owner's answer first, then the echo of the early bytes and the
  // client's, then what the upstream said after the client's FIN.
  EXPECT_EQ(reply, "HTTP/1.1 200 OK\r\n\r\nearly:hello|BYE");
  EXPECT_EQ(owner.tunnel->bytes_to_upstream(), 11u);
  EXPECT_EQ(owner.tunnel->bytes_to_downstream(), 15u);
  worker.loop().flush_deferred_deletes();
}

TEST(TcpTunnelTest, ConnectFailureLetsTheOwnerAnswerThenCloses) {
  const uint16_t dead_port =
      torii::testing::reserve_port();  // nothing listens there, and nothing can start to
  auto cluster = cluster_at(dead_port);
  ServerOptions options;
  Worker worker(0, options);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
  Owner owner(worker, net::UniqueFd(pair[0]));
  TcpTunnelTarget target;
  target.cluster = cluster.get();
  owner.tunnel = std::make_unique<TcpTunnel>(worker, *owner.downstream, std::move(target), owner);
  owner.tunnel->start();
  const int client = pair[1];
  std::string reply;
  std::thread talker([&] {
    int fl = ::fcntl(client, F_GETFL);
    ::fcntl(client, F_SETFL, fl & ~O_NONBLOCK);
    reply = talk(client, "");
  });
  run_loop(worker);
  talker.join();
  ::close(client);
  EXPECT_TRUE(owner.failed);
  EXPECT_EQ(owner.failure, TunnelFailure::ConnectFailed);
  EXPECT_FALSE(owner.connected);
  EXPECT_TRUE(owner.closed);
  EXPECT_EQ(reply, "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
  worker.loop().flush_deferred_deletes();
}

TEST(TcpTunnelTest, MissingClusterFailsWithNoCluster) {
  ServerOptions options;
  Worker worker(0, options);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
  Owner owner(worker, net::UniqueFd(pair[0]));
  owner.tunnel = std::make_unique<TcpTunnel>(worker, *owner.downstream, TcpTunnelTarget{}, owner);
  owner.tunnel->start();
  ::shutdown(pair[1], SHUT_WR);  // the client leaves too, so the linger ends at once
  run_loop(worker);
  ::close(pair[1]);
  EXPECT_TRUE(owner.failed);
  EXPECT_EQ(owner.failure, TunnelFailure::NoCluster);
  EXPECT_TRUE(owner.closed);
  worker.loop().flush_deferred_deletes();
}

}  // namespace
}  // namespace torii::proxy
