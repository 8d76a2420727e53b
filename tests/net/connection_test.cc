#include "net/connection.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/socket_ops.h"
#include "net/tcp_listener.h"
#include "reserved_ports.h"

namespace torii::net {
namespace {

// Echo server on the loop + a client connection, all on one thread.
struct EchoServer : AcceptHandler, ConnectionCallbacks {
  EventLoop& loop;
  std::unique_ptr<Connection> conn;
  bool eof = false;
  explicit EchoServer(EventLoop& l) : loop(l) {}
  void on_accept(UniqueFd fd, const sockaddr_storage&) override {
    conn = std::make_unique<Connection>(loop, std::move(fd), *this);
  }
  void on_data(Buffer& in) override {
    conn->output().move_from(in);
    conn->flush();
  }
  void on_eof() override {
    eof = true;
    conn->close_after_flush();
  }
  void on_close(CloseReason, int) override {}
};

struct Client : ConnectionCallbacks {
  EventLoop& loop;
  Connection conn;
  std::string received;
  size_t expect = 0;
  bool connected = false;
  bool closed = false;
  CloseReason reason = CloseReason::LocalClose;
  explicit Client(EventLoop& l) : loop(l), conn(l, *this) {}
  void on_connected() override { connected = true; }
  void on_data(Buffer& in) override {
    received += in.to_string();
    in.drain(in.size());
    if (expect != 0 && received.size() >= expect) conn.close_after_flush();
  }
  void on_eof() override {}
  void on_close(CloseReason r, int) override {
    closed = true;
    reason = r;
    loop.stop();
  }
};

// Starts `conn` connecting to 127.0.0.1:port; false if it failed at once.
bool connect_loopback(Connection& conn, uint16_t port) {
  sockaddr_storage addr;
  socklen_t len;
  int err = 0;
  return make_sockaddr("127.0.0.1", port, addr, len) &&
         conn.connect(reinterpret_cast<sockaddr*>(&addr), len, 1000, err);
}

TEST(ConnectionTest, EchoRoundTripAndGracefulClose) {
  EventLoop loop;
  std::string error;
  UniqueFd lfd = listen_tcp("127.0.0.1", 0, false, 16, error);
  ASSERT_TRUE(lfd.valid()) << error;
  uint16_t port = local_port(lfd.get());
  EchoServer server(loop);
  TcpListener listener(loop, std::move(lfd), server);

  Client client(loop);
  ASSERT_TRUE(connect_loopback(client.conn, port));
  std::string payload(300000, 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  client.conn.output().append(payload);  // queued before the connect completes
  client.expect = payload.size();
  Timer guard(loop, [&] { loop.stop(); });
  guard.arm(5000);
  loop.run();
  EXPECT_TRUE(client.connected);
  EXPECT_TRUE(client.closed);
  EXPECT_EQ(client.reason, CloseReason::LocalClose);
  EXPECT_EQ(client.received, payload);
}

// shutdown_write(): the queued bytes go out, then our FIN; we keep reading,
// so the peer's answer to the FIN still arrives (a TCP proxy's half-close).
TEST(ConnectionTest, ShutdownWriteSendsFinAndKeepsReading) {
  struct FinAnswering : EchoServer {
    using EchoServer::EchoServer;
    void on_eof() override {
      eof = true;
      conn->output().append("bye");
      conn->close_after_flush();
    }
  };
  struct HalfClosingClient : Client {
    using Client::Client;
    bool got_eof = false;
    void on_eof() override {
      got_eof = true;
      conn.close();
      loop.stop();
    }
  };
  EventLoop loop;
  std::string error;
  UniqueFd lfd = listen_tcp("127.0.0.1", 0, false, 16, error);
  ASSERT_TRUE(lfd.valid()) << error;
  uint16_t port = local_port(lfd.get());
  FinAnswering server(loop);
  TcpListener listener(loop, std::move(lfd), server);

  HalfClosingClient client(loop);
  ASSERT_TRUE(connect_loopback(client.conn, port));
  client.conn.output().append("hello");
  client.conn.shutdown_write();  // still connecting: the FIN waits for the bytes
  EXPECT_TRUE(client.conn.write_shutdown());
  Timer guard(loop, [&] { loop.stop(); });
  guard.arm(5000);
  loop.run();
  EXPECT_TRUE(server.eof);
  EXPECT_TRUE(client.got_eof);
  EXPECT_FALSE(client.closed);  // no error: the connection stayed usable for reading
  EXPECT_EQ(client.received, "hellobye");
}

// A peer that has said its last word: close_after_flush_without_linger()
// closes once the answer is sent, without waiting for the peer's close;
// close_after_flush() waits for it (a FIN, then reads until the peer's EOF),
// for at most the linger timeout; a timeout of 0 does not wait at all.
TEST(ConnectionTest, CloseWithoutLingerDoesNotWaitForThePeer) {
  enum class Mode { kWithoutLinger, kLinger, kLingerTimeoutZero };
  struct Answering : EchoServer {
    using EchoServer::EchoServer;
    Mode mode = Mode::kLinger;
    bool closed = false;
    CloseReason reason = CloseReason::Reset;
    void on_accept(UniqueFd fd, const sockaddr_storage& peer) override {
      EchoServer::on_accept(std::move(fd), peer);
      conn->set_linger_timeout_ms(mode == Mode::kLingerTimeoutZero ? 0 : 50);
    }
    void on_data(Buffer& in) override {
      in.drain(in.size());
      conn->output().append("bye");
      if (mode == Mode::kWithoutLinger) {
        conn->close_after_flush_without_linger();
      } else {
        conn->close_after_flush();
      }
    }
    void on_close(CloseReason r, int) override {
      closed = true;
      reason = r;
      loop.stop();
    }
  };
  // Reads the answer and its EOF but never closes its own side.
  struct StayingClient : Client {
    using Client::Client;
    bool got_eof = false;
    void on_eof() override {
      got_eof = true;
      loop.stop();
    }
  };
  for (Mode mode : {Mode::kWithoutLinger, Mode::kLinger, Mode::kLingerTimeoutZero}) {
    SCOPED_TRACE(static_cast<int>(mode));
    EventLoop loop;
    std::string error;
    UniqueFd lfd = listen_tcp("127.0.0.1", 0, false, 16, error);
    ASSERT_TRUE(lfd.valid()) << error;
    uint16_t port = local_port(lfd.get());
    Answering server(loop);
    server.mode = mode;
    TcpListener listener(loop, std::move(lfd), server);

    StayingClient client(loop);
    ASSERT_TRUE(connect_loopback(client.conn, port));
    client.conn.output().append("last words");
    Timer guard(loop, [&] { loop.stop(); });
    guard.arm(5000);
    // Runs until the client has the answer and its EOF (the server's close,
    // when there is no wait, stops the loop first: run on).
    while (!client.got_eof && guard.armed()) loop.run();
    ASSERT_TRUE(client.got_eof);
    EXPECT_EQ(client.received, "bye");
    if (mode == Mode::kLinger) {
      // One thread: the server has not closed before the client's pass
      // that saw the EOF; it waits for the client's close, then gives up
      // at its timeout.
      EXPECT_FALSE(server.closed);
      EXPECT_TRUE(server.conn->lingering());
      loop.run();  // until the server's on_close (50 ms) or the guard
    }
    EXPECT_TRUE(server.closed);
    EXPECT_EQ(server.reason, CloseReason::LocalClose);
    EXPECT_FALSE(server.conn->is_open());
  }
}

TEST(ConnectionTest, ConnectRefusedReportsConnectFailed) {
  EventLoop loop;
  // A reserved port: nothing listens there, and nothing can start to.
  const uint16_t port = torii::testing::reserve_port();
  Client client(loop);
  sockaddr_storage addr;
  socklen_t len;
  ASSERT_TRUE(make_sockaddr("127.0.0.1", port, addr, len));
  int err = 0;
  bool started = client.conn.connect(reinterpret_cast<sockaddr*>(&addr), len, 1000, err);
  if (!started) {
    EXPECT_EQ(err, ECONNREFUSED);
    return;
  }
  Timer guard(loop, [&] { loop.stop(); });
  guard.arm(2000);
  loop.run();
  EXPECT_TRUE(client.closed);
  EXPECT_EQ(client.reason, CloseReason::ConnectFailed);
}

TEST(ConnectionTest, ConnectTimeout) {
  EventLoop loop;
  // A listener with a full accept queue drops further SYNs, so a connect
  // to it hangs: fill the backlog (0 => one slot) with connections nobody accepts.
  std::string error;
  UniqueFd lfd = listen_tcp("127.0.0.1", 0, false, 0, error);
  ASSERT_TRUE(lfd.valid()) << error;
  sockaddr_storage addr;
  socklen_t len;
  ASSERT_TRUE(make_sockaddr("127.0.0.1", local_port(lfd.get()), addr, len));
  std::vector<UniqueFd> fillers;
  for (int i = 0; i < 3; ++i) {
    int e = 0;
    fillers.push_back(connect_tcp(reinterpret_cast<sockaddr*>(&addr), len, e));
  }
  usleep(50 * 1000);
  Client client(loop);
  int err = 0;
  ASSERT_TRUE(client.conn.connect(reinterpret_cast<sockaddr*>(&addr), len, 50, err));
  Timer guard(loop, [&] { loop.stop(); });
  guard.arm(3000);
  loop.run();
  ASSERT_TRUE(client.closed);
  EXPECT_EQ(client.reason, CloseReason::ConnectTimeout);
}

}  // namespace
}  // namespace torii::net
