// TLS over net::Connection: handshake, SAN verification inside the
// handshake, client certificates, SNI and ALPN, data both ways.
#include "net/tls.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "net/connection.h"
#include "net/socket_ops.h"
#include "net/tcp_listener.h"
#include "test_certs.h"

namespace torii::net {
namespace {

using testing::TestCerts;

// A TLS echo server: every accepted connection gets a server session.
struct TlsEchoServer : AcceptHandler, ConnectionCallbacks {
  EventLoop& loop;
  std::shared_ptr<const TlsContext> context;
  TlsSession::SniSelector selector;
  std::unique_ptr<Connection> conn;
  const TlsSession* session = nullptr;
  bool closed = false;
  TlsEchoServer(EventLoop& l, std::shared_ptr<const TlsContext> c) : loop(l), context(std::move(c)) {}
  void on_accept(UniqueFd fd, const sockaddr_storage&) override {
    conn = std::make_unique<Connection>(loop, std::move(fd), *this);
    auto s = std::make_unique<TlsSession>(context, "");
    if (selector) s->set_sni_selector(selector);
    session = s.get();
    conn->start_tls(std::move(s));
  }
  void on_data(Buffer& in) override {
    conn->output().move_from(in);
    conn->flush();
  }
  void on_eof() override { conn->close_after_flush(); }
  void on_close(CloseReason, int) override { closed = true; }
};

struct TlsClient : ConnectionCallbacks {
  EventLoop& loop;
  Connection conn;
  std::string received;
  size_t expect = 0;
  bool connected = false;
  bool closed = false;
  CloseReason reason = CloseReason::LocalClose;
  int error_no = 0;
  explicit TlsClient(EventLoop& l) : loop(l), conn(l, *this) {}
  void on_connected() override { connected = true; }
  void on_data(Buffer& in) override {
    received += in.to_string();
    in.drain(in.size());
    if (expect != 0 && received.size() >= expect) conn.close_after_flush();
  }
  void on_eof() override {}
  void on_close(CloseReason r, int e) override {
    closed = true;
    reason = r;
    error_no = e;
    loop.stop();
  }
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(certs.ok()) << "openssl could not make test certificates"; }

  std::shared_ptr<const TlsContext> server_context(bool verify_clients = false) {
    std::string error;
    TlsServerConfig config{.cert_file = certs.path("server.pem"), .key_file = certs.path("server.key")};
    config.alpn = {"http/1.1"};
    if (verify_clients) {
      config.ca_file = certs.path("ca.pem");
      config.require_client_certificate = true;
    }
    auto ctx = TlsContext::server(config, error);
    EXPECT_NE(ctx, nullptr) << error;
    return ctx;
  }

  std::shared_ptr<const TlsContext> client_context(TlsClientConfig config) {
    std::string error;
    auto ctx = TlsContext::client(config, error);
    EXPECT_NE(ctx, nullptr) << error;
    return ctx;
  }

  // Connects a client with `context` and `sni` to a fresh server, sends
  // `payload`, runs the loop until the client closes (or 5 s).
  std::unique_ptr<TlsClient> exchange(std::shared_ptr<const TlsContext> server_ctx,
                                      std::shared_ptr<const TlsContext> client_ctx, const std::string& sni,
                                      const std::string& payload, TlsSession::SniSelector selector = {}) {
    std::string error;
    UniqueFd lfd = listen_tcp("127.0.0.1", 0, false, 16, error);
    EXPECT_TRUE(lfd.valid()) << error;
    const uint16_t port = local_port(lfd.get());
    server = std::make_unique<TlsEchoServer>(loop, std::move(server_ctx));
    server->selector = std::move(selector);
    listener = std::make_unique<TcpListener>(loop, std::move(lfd), *server);

    auto client = std::make_unique<TlsClient>(loop);
    client->conn.start_tls(std::make_unique<TlsSession>(std::move(client_ctx), sni));
    sockaddr_storage addr;
    socklen_t len;
    EXPECT_TRUE(make_sockaddr("127.0.0.1", port, addr, len));
    int err = 0;
    EXPECT_TRUE(client->conn.connect(reinterpret_cast<sockaddr*>(&addr), len, 2000, err));
    client->conn.output().append(payload);  // held until the handshake is done
    client->conn.flush();
    client->expect = payload.size();
    Timer guard(loop, [&] { loop.stop(); });
    guard.arm(5000);
    loop.run();
    return client;
  }

  TestCerts certs;
  EventLoop loop;
  std::unique_ptr<TlsEchoServer> server;
  std::unique_ptr<TcpListener> listener;
};

std::string big_payload() {
  std::string p(200000, 'x');
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<char>('a' + i % 26);
  return p;
}

TEST_F(TlsTest, VerifiedHandshakeCarriesDataBothWays) {
  auto client_ctx = client_context({.ca_file = certs.path("ca.pem"),
                                    .subject_alt_names = {"api.example.test"},
                                    .alpn = {"h2", "http/1.1"}});
  const std::string payload = big_payload();
  auto c = exchange(server_context(), client_ctx, "api.example.test", payload);
  EXPECT_TRUE(c->connected);
  EXPECT_EQ(c->received, payload);
  EXPECT_EQ(c->reason, CloseReason::LocalClose);
  EXPECT_EQ(c->conn.tls_failure_reason(), "");
}

TEST_F(TlsTest, SanMatchesWildcardAndUri) {
  for (const std::string san : {"x.wild.example.test", "spiffe://cluster.local/ns/default/sa/api"}) {
    auto c = exchange(server_context(),
                      client_context({.ca_file = certs.path("ca.pem"), .subject_alt_names = {"nope", san}}),
                      "", "ping");
    EXPECT_EQ(c->received, "ping") << san;
  }
}

TEST_F(TlsTest, WrongSanFailsTheHandshakeBeforeAnyByteIsSent) {
  auto c =
      exchange(server_context(),
               client_context({.ca_file = certs.path("ca.pem"), .subject_alt_names = {"other.example.test"}}),
               "", "secret");
  EXPECT_FALSE(c->connected);
  EXPECT_EQ(c->reason, CloseReason::ConnectFailed);
  EXPECT_EQ(c->error_no, EPROTO);
  EXPECT_NE(c->conn.tls_failure_reason().find("CERTIFICATE_VERIFY_FAILED"), std::string::npos)
      << c->conn.tls_failure_reason();
  EXPECT_TRUE(c->received.empty());
}

TEST_F(TlsTest, UntrustedCaFails) {
  auto c = exchange(server_context(), client_context({.ca_file = certs.path("other-ca.pem")}), "", "x");
  EXPECT_FALSE(c->connected);
  EXPECT_NE(c->conn.tls_failure_reason().find("CERTIFICATE_VERIFY_FAILED"), std::string::npos)
      << c->conn.tls_failure_reason();
}

TEST_F(TlsTest, InsecureSkipVerifyAcceptsAnyServer) {
  auto c = exchange(server_context(),
                    client_context({.ca_file = certs.path("other-ca.pem"),
                                    .subject_alt_names = {"nope"},
                                    .insecure_skip_verify = true}),
                    "", "ok");
  EXPECT_EQ(c->received, "ok");
}

TEST_F(TlsTest, MutualTlsNeedsTheClientCertificate) {
  auto without = exchange(server_context(true), client_context({.ca_file = certs.path("ca.pem")}), "", "x");
  EXPECT_TRUE(without->received.empty());
  EXPECT_TRUE(without->closed);

  auto with = exchange(server_context(true),
                       client_context({.ca_file = certs.path("ca.pem"),
                                       .cert_file = certs.path("client.pem"),
                                       .key_file = certs.path("client.key")}),
                       "", "mutual");
  EXPECT_EQ(with->received, "mutual");
}

TEST_F(TlsTest, NegotiatesAlpn) {
  auto c = exchange(server_context(),
                    client_context({.ca_file = certs.path("ca.pem"), .alpn = {"h2", "http/1.1"}}), "", "a");
  ASSERT_NE(c->conn.tls(), nullptr);
  EXPECT_EQ(c->conn.tls()->negotiated_alpn(), "http/1.1");
}

TEST_F(TlsTest, ServerPicksTheCertificateBySni) {
  std::string error;
  auto api = server_context();
  auto other =
      TlsContext::server({.cert_file = certs.path("other.pem"), .key_file = certs.path("other.key")}, error);
  ASSERT_NE(other, nullptr) << error;
  std::vector<std::string> seen;
  auto selector = [&](std::string_view sni) -> std::shared_ptr<const TlsContext> {
    seen.emplace_back(sni);
    if (sni == "other.example.test") return other;
    if (sni == "api.example.test" || sni.empty()) return api;
    return nullptr;
  };
  auto verify_as = [&](const std::string& san) {
    return client_context({.ca_file = certs.path("ca.pem"), .subject_alt_names = {san}});
  };
  EXPECT_EQ(exchange(api, verify_as("other.example.test"), "other.example.test", "1", selector)->received,
            "1");
  EXPECT_EQ(exchange(api, verify_as("api.example.test"), "api.example.test", "2", selector)->received, "2");
  EXPECT_EQ(exchange(api, verify_as("api.example.test"), "", "3", selector)->received, "3");
  auto refused = exchange(api, verify_as("api.example.test"), "unknown.example.test", "4", selector);
  EXPECT_FALSE(refused->connected);
  EXPECT_NE(refused->conn.tls_failure_reason().find("UNRECOGNIZED_NAME"), std::string::npos)
      << refused->conn.tls_failure_reason();
  EXPECT_EQ(seen,
            (std::vector<std::string>{"other.example.test", "api.example.test", "", "unknown.example.test"}));
}

// TlsSession::read_into() stops once the socket is empty (a short read by
// OpenSSL in this call) and OpenSSL holds nothing more. A record served from
// OpenSSL's read-ahead buffer says nothing about the socket: bytes that came
// since must still be read, or an edge-triggered loop never sees them.
TEST_F(TlsTest, ReadIntoReadsOnPastRecordsItHadBuffered) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  UniqueFd client_fd(fds[0]);
  UniqueFd server_fd(fds[1]);
  TlsSession dialing(
      client_context({.ca_file = certs.path("ca.pem"), .subject_alt_names = {"api.example.test"}}),
      "api.example.test");
  TlsSession accepting(server_context(), "");
  for (int i = 0; i < 100 && !(dialing.handshake_done() && accepting.handshake_done()); ++i) {
    ASSERT_NE(dialing.handshake(client_fd.get()), TlsSession::Result::kFailed) << dialing.failure_reason();
    ASSERT_NE(accepting.handshake(server_fd.get()), TlsSession::Result::kFailed)
        << accepting.failure_reason();
  }
  ASSERT_TRUE(dialing.handshake_done() && accepting.handshake_done());
  const auto send_record = [&](std::string_view text) {
    Buffer out;
    out.append(text);
    ASSERT_EQ(dialing.write_from(client_fd.get(), out), static_cast<ssize_t>(text.size()));
  };

  // Two records in the socket; a read of 4 bytes leaves the second in
  // OpenSSL's read-ahead buffer, after a socket read that came back short.
  send_record("bbbb");
  send_record("cccc");
  Buffer in;
  ASSERT_EQ(accepting.read_into(server_fd.get(), in, 4), 4);
  EXPECT_EQ(in.to_string(), "bbbb");
  // A third record arrives; the next read serves "cccc" from the buffer and
  // must go on to the socket for "dddd".
  send_record("dddd");
  Buffer next;
  EXPECT_EQ(accepting.read_into(server_fd.get(), next, 64 * 1024), 8);
  EXPECT_EQ(next.to_string(), "ccccdddd");
}

TEST(TlsContextTest, MissingFilesAreNamedInTheError) {
  std::string error;
  EXPECT_EQ(
      TlsContext::server({.cert_file = "/nonexistent/cert.pem", .key_file = "/nonexistent/key.pem"}, error),
      nullptr);
  EXPECT_NE(error.find("/nonexistent/cert.pem"), std::string::npos) << error;
  EXPECT_EQ(TlsContext::client({.ca_file = "/nonexistent/ca.pem"}, error), nullptr);
  EXPECT_NE(error.find("/nonexistent/ca.pem"), std::string::npos) << error;
}

}  // namespace
}  // namespace torii::net
