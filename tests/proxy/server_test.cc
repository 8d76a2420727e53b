// The data plane end to end, in process: a Server with a hand-built
// Snapshot, a real upstream on 127.0.0.1 and a real client socket.
#include "proxy/server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>

#include "reserved_ports.h"
#include "router/route_table.h"
#include "test_client.h"
#include "test_upstream.h"

namespace torii::proxy {
namespace {

using torii::testing::ClientResponse;
using torii::testing::TestClient;
using torii::testing::TestUpstream;

constexpr char kListener[] = "127.0.0.1_0";

std::unique_ptr<upstream::ClusterInfo> make_cluster(std::string name, size_t index,
                                                    std::vector<uint16_t> ports) {
  auto c = std::make_unique<upstream::ClusterInfo>();
  c->name = std::move(name);
  c->index = index;
  c->connect_timeout_ms = 1000;
  for (uint16_t port : ports) {
    upstream::Endpoint e;
    e.address = "127.0.0.1";
    e.port = port;
    upstream::resolve_numeric(e);
    c->endpoints.push_back(e);
  }
  return c;
}

router::Route prefix_route(std::string prefix, std::string cluster_name,
                           const upstream::ClusterInfo* cluster) {
  router::Route r;
  r.match.path.kind = router::StringMatcher::Kind::Prefix;
  r.match.path.value = std::move(prefix);
  r.action.clusters.push_back(router::WeightedCluster{std::move(cluster_name), cluster, 1});
  r.action.total_weight = 1;
  return r;
}

// A reserved port: nothing listens there, and nothing can start to.
uint16_t dead_port() { return torii::testing::reserve_port(); }

// example.com: /nc -> missing cluster, /uh -> no endpoints, /uf -> dead
// endpoint, / -> the test upstream. secure.example.com requires TLS.
compile::SnapshotPtr make_snapshot(uint16_t upstream_port) {
  auto s = std::make_shared<compile::Snapshot>();
  s->version = 1;
  s->clusters.push_back(make_cluster("outbound|80||up", 0, {upstream_port}));
  s->clusters.push_back(make_cluster("outbound|80||empty", 1, {}));
  s->clusters.push_back(make_cluster("outbound|80||dead", 2, {dead_port()}));
  for (auto& c : s->clusters) s->clusters_by_name[c->name] = c.get();
  s->cluster_slots = s->clusters.size();

  auto table = std::make_shared<router::RouteTable>();
  router::VirtualHost& vh = table->add_virtual_host("example.com");
  vh.routes.push_back(prefix_route("/nc", "outbound|80||missing", nullptr));
  vh.routes.push_back(prefix_route("/uh", "outbound|80||empty", s->clusters[1].get()));
  vh.routes.push_back(prefix_route("/uf", "outbound|80||dead", s->clusters[2].get()));
  vh.routes.push_back(prefix_route("/", "outbound|80||up", s->clusters[0].get()));
  router::VirtualHost& secure = table->add_virtual_host("secure.example.com");
  secure.require_tls = true;
  table->finalize();

  compile::Listener l;
  l.name = kListener;
  l.bind = "127.0.0.1";
  l.listen_port = 0;
  l.protocol = "HTTP";
  l.routes = table;
  s->listeners.push_back(std::move(l));
  return s;
}

// Polls `done` until it holds or `within` passes (a worker applies a new
// snapshot asynchronously, later on a loaded machine).
template <class Done>
bool eventually(Done done, std::chrono::milliseconds within = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

uint64_t stat(const Server& server, const std::string& name) {
  for (const auto& [n, v] : sum_stats(server.worker_stats())) {
    if (n == name) return v;
  }
  return 0;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    options.workers = 2;
    server_ = std::make_unique<Server>(options);
    server_->start();
    auto errors = server_->publish(make_snapshot(upstream_.port()));
    ASSERT_TRUE(errors.empty()) << errors.front();
    ASSERT_TRUE(server_->ready());
    port_ = server_->listener_port(kListener);
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->drain_and_stop();
  }
  ClientResponse get(const std::string& request, bool head = false) {
    TestClient client(port_);
    EXPECT_TRUE(client.connected());
    client.send(request);
    return client.read_response(head);
  }

  TestUpstream upstream_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, ProxiedGetCarriesGatewayHeaders) {
  start();
  ClientResponse r =
      get("GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 10.9.8.7\r\n"
          "X-Request-Id: client-chosen\r\nX-Envoy-Retry-On: 5xx\r\nTE: trailers\r\nConnection: keep-alive, "
          "x-secret\r\n"
          "X-Secret: drop-me\r\nX-Custom: kept\r\n\r\n");
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "path=/hello?x=1");
  EXPECT_EQ(r.header("server"), "istio-envoy");
  EXPECT_FALSE(r.header("date").empty());
  EXPECT_FALSE(r.header("x-envoy-upstream-service-time").empty());
  EXPECT_EQ(r.header("x-upstream"), "yes");

  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const http::HeaderMap& h = requests[0].headers;
  EXPECT_EQ(requests[0].target, "/hello?x=1");
  EXPECT_EQ(*h.get("host"), "example.com");
  EXPECT_EQ(*h.get("x-forwarded-for"), "10.9.8.7,127.0.0.1");
  EXPECT_EQ(*h.get("x-forwarded-proto"), "http");
  EXPECT_EQ(*h.get("x-envoy-external-address"), "127.0.0.1");
  EXPECT_EQ(*h.get("x-envoy-attempt-count"), "1");
  EXPECT_EQ(*h.get("x-custom"), "kept");
  const std::string_view* id = h.get("x-request-id");
  ASSERT_NE(id, nullptr);
  EXPECT_TRUE(std::regex_match(
      std::string(*id), std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[49][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << *id;  // character 14: 9 for the 1 % random sampling picks (docs/tracing.md)
  EXPECT_EQ(h.get("x-envoy-retry-on"), nullptr);
  ASSERT_NE(h.get("te"), nullptr);  // Envoy's sanitizeTEHeader keeps `te: trailers` (gRPC)
  EXPECT_EQ(*h.get("te"), "trailers");
  EXPECT_EQ(h.get("connection"), nullptr);
  EXPECT_EQ(h.get("x-secret"), nullptr);
}

TEST_F(ServerTest, NoRouteIs404WithEmptyBody) {
  start();
  ClientResponse r = get("GET / HTTP/1.1\r\nHost: unknown.com\r\n\r\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("content-length"), "0");
  EXPECT_EQ(r.header("server"), "istio-envoy");
  EXPECT_FALSE(r.header("date").empty());
  EXPECT_EQ(r.header("x-envoy-upstream-service-time"), "");
  EXPECT_EQ(stat(*server_, "no_route"), 1u);
}

TEST_F(ServerTest, MissingClusterIs503WithEmptyBody) {
  start();
  ClientResponse r = get("GET /nc HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(stat(*server_, "no_cluster"), 1u);
}

TEST_F(ServerTest, NoEndpointsIs503NoHealthyUpstream) {
  start();
  ClientResponse r = get("GET /uh HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "no healthy upstream");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("server"), "istio-envoy");
  EXPECT_EQ(stat(*server_, "no_healthy_upstream"), 1u);
}

TEST_F(ServerTest, ConnectFailureIs503WithResetReason) {
  start();
  ClientResponse r = get("GET /uf HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(stat(*server_, "upstream_cx_connect_fail"), 1u);
}

TEST_F(ServerTest, UpstreamCloseBeforeHeadersIs503ConnectionTermination) {
  start();
  ClientResponse r = get("GET /close-before-response HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(
      r.body,
      "upstream connect error or disconnect/reset before headers. reset reason: connection termination");
}

TEST_F(ServerTest, MalformedUpstreamResponseIs502ProtocolError) {
  start();
  ClientResponse r = get("GET /garbage HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body,
            "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
}

TEST_F(ServerTest, HttpsRedirectForRequireTlsHost) {
  start();
  ClientResponse r = get("GET /a/b?c=d HTTP/1.1\r\nHost: secure.example.com:8080\r\n\r\n");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("location"), "https://secure.example.com:8080/a/b?c=d");
  EXPECT_EQ(r.body, "");
}

TEST_F(ServerTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  start();
  TestClient client(port_);
  std::string three;
  for (int i = 1; i <= 3; ++i)
    three += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: example.com\r\n\r\n";
  client.send(three);
  for (int i = 1; i <= 3; ++i) {
    ClientResponse r = client.read_response();
    ASSERT_TRUE(r.complete) << i;
    EXPECT_EQ(r.body, "path=/p" + std::to_string(i));
  }
  // Same connection again after a pause: still open.
  client.send("GET /p4 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(client.read_response().body, "path=/p4");
  // Requests on one downstream connection share one upstream connection.
  EXPECT_EQ(upstream_.connections_accepted(), 1);
  EXPECT_EQ(stat(*server_, "upstream_cx_reused"), 3u);
  EXPECT_EQ(stat(*server_, "downstream_rq_total"), 4u);
  EXPECT_EQ(stat(*server_, "downstream_rq_2xx"), 4u);
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  ServerOptions options;
  // A lingering close would keep the connection for a minute, far past
  // the wait below: only a close at once passes, however slow the machine.
  options.delayed_close_timeout_ms = 60000;
  start(options);
  TestClient client(port_);
  client.send("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(client.peer_closed());
  // The client said this was its last request and sent it whole, so the
  // gateway closed without lingering for the client's close: its
  // connection is gone while the client's socket is still open.
  EXPECT_TRUE(eventually([&] { return stat(*server_, "downstream_cx_active") == 0; }));
}

TEST_F(ServerTest, ChunkedUploadIsReChunkedAndLengthUploadKept) {
  start();
  TestClient client(port_);
  client.send(
      "POST /echo HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world");
  client.send("PUT /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nabcd");
  EXPECT_EQ(client.read_response().body, "abcd");
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].chunked);
  EXPECT_EQ(*requests[0].headers.get("transfer-encoding"), "chunked");
  EXPECT_EQ(requests[0].headers.get("content-length"), nullptr);
  EXPECT_FALSE(requests[1].chunked);
  EXPECT_EQ(*requests[1].headers.get("content-length"), "4");
}

TEST_F(ServerTest, ChunkedAndCloseDelimitedResponsesReachClientChunked) {
  start();
  TestClient client(port_);
  client.send("GET /chunked-response HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.body, "abcdefg");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.header("server"), "istio-envoy");  // upstream's overwritten
  client.send("GET /close-delimited HTTP/1.1\r\nHost: example.com\r\n\r\n");
  r = client.read_response();
  EXPECT_EQ(r.body, "until-the-end");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  // The client connection survives the upstream's close.
  client.send("GET /again HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(client.read_response().body, "path=/again");
}

TEST_F(ServerTest, HeadResponseHasNoBody) {
  start();
  TestClient client(port_);
  client.send("HEAD /x HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ClientResponse r = client.read_response(/*head_request=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "7");
  client.send("GET /y HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(client.read_response().body, "path=/y");  // framing stayed in sync
}

TEST_F(ServerTest, OversizedHeadersGet431AndClose) {
  start();
  TestClient client(port_);
  client.send("GET / HTTP/1.1\r\nHost: example.com\r\nX-Big: " + std::string(61 * 1024, 'a') + "\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.header("server"), "istio-envoy");
  EXPECT_TRUE(r.connection_closed || client.peer_closed());
  EXPECT_EQ(stat(*server_, "downstream_rq_too_large_headers"), 1u);
}

TEST_F(ServerTest, MalformedRequestGets400BadRequestAndClose) {
  start();
  TestClient client(port_);
  client.send("THIS IS NOT HTTP\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "Bad Request");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_TRUE(r.connection_closed || client.peer_closed());
}

TEST_F(ServerTest, Http10IsServedAndClosed) {
  start();
  TestClient client(port_);
  client.send("GET /old HTTP/1.0\r\nHost: example.com\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "path=/old");
  EXPECT_TRUE(r.connection_closed || client.peer_closed());
}

TEST_F(ServerTest, Http10RejectedWith426WhenDisabled) {
  ServerOptions options;
  options.accept_http10 = false;
  start(options);
  ClientResponse r = get("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(r.status, 426);
  EXPECT_EQ(r.body, "");
}

TEST_F(ServerTest, AbsoluteFormUsesItsAuthority) {
  start();
  ClientResponse r = get("GET http://example.com/abs?q=1 HTTP/1.1\r\nHost: other.com\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/abs?q=1");
  EXPECT_EQ(*requests[0].headers.get("host"), "example.com");
}

TEST_F(ServerTest, ExpectContinueIsRelayed) {
  start();
  TestClient client(port_);
  client.send(
      "POST /continue HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  // The upstream sends 100 before the body arrives; then we send the body.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  client.send("abc");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.informational, std::vector<int>{100});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "abc");
}

TEST_F(ServerTest, StalePooledConnectionIsRetriedOnce) {
  start();
  TestClient client(port_);
  // The upstream closes its side right after this answer, without saying so.
  client.send("GET /first HTTP/1.1\r\nHost: example.com\r\nX-Close-After: 1\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  client.send("GET /second HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "path=/second");
}

TEST_F(ServerTest, LargeUploadStreamsThrough) {
  ServerOptions options;
  options.buffer_limit_bytes = 64 * 1024;
  start(options);
  TestClient client(port_);
  const size_t total = 32 * 1024 * 1024;
  client.send("POST /count HTTP/1.1\r\nHost: example.com\r\nContent-Length: " + std::to_string(total) +
              "\r\n\r\n");
  std::string chunk(1 << 20, 'z');
  for (size_t sent = 0; sent < total; sent += chunk.size()) ASSERT_TRUE(client.send(chunk));
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::to_string(total));
}

// Resident memory of this process, in bytes (Linux /proc).
size_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0;
  long resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// Streams 256 MiB up and 256 MiB down through the proxy (default 1 MiB
// buffer limit) and checks nothing is held in memory on the way.
TEST_F(ServerTest, LargeBodiesDoNotGrowMemory) {
  start();
  const size_t total = 256u * 1024 * 1024;
  size_t before = resident_bytes();
  {
    TestClient client(port_);
    client.send("POST /count HTTP/1.1\r\nHost: example.com\r\nContent-Length: " + std::to_string(total) +
                "\r\n\r\n");
    std::string chunk(1 << 20, 'z');
    for (size_t sent = 0; sent < total; sent += chunk.size()) ASSERT_TRUE(client.send(chunk));
    ClientResponse r = client.read_response();
    EXPECT_EQ(r.body, std::to_string(total));
  }
  size_t after_upload = resident_bytes();
  {
    TestClient client(port_);
    client.send("GET /big?" + std::to_string(total) + " HTTP/1.1\r\nHost: example.com\r\n\r\n");
    // A slow reader first: the proxy must stop reading the upstream.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    size_t received = 0;
    char buf[1 << 16];
    bool head_done = false;
    std::string head;
    while (received < total) {
      ssize_t n = ::recv(client.fd(), buf, sizeof(buf), 0);
      ASSERT_GT(n, 0);
      size_t k = static_cast<size_t>(n);
      if (!head_done) {
        head.append(buf, k);
        size_t end = head.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        head_done = true;
        received += head.size() - end - 4;
      } else {
        received += k;
      }
    }
    EXPECT_EQ(received, total);
  }
  size_t after_download = resident_bytes();
  // The test client and upstream use a few MiB themselves; the proxy's
  // share must stay far below the bytes that went through. (ASan's
  // quarantine keeps freed memory resident, so only plain builds measure.)
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "RSS is not meaningful under AddressSanitizer";
#endif
  EXPECT_LT(after_upload, before + 16u * 1024 * 1024) << before << " -> " << after_upload;
  EXPECT_LT(after_download, before + 16u * 1024 * 1024) << before << " -> " << after_download;
}

TEST_F(ServerTest, ClientHalfCloseStillGetsItsAnswer) {
  start();
  TestClient client(port_);
  client.send("GET /half HTTP/1.1\r\nHost: example.com\r\n\r\n");
  client.shutdown_write();
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "path=/half");
}

TEST_F(ServerTest, ListenerThatCannotBindIsReportedOthersServe) {
  start();
  // Occupy a port without SO_REUSEPORT, then ask for a listener there.
  std::string error;
  net::UniqueFd taken = net::listen_tcp("127.0.0.1", 0, false, 1, error);
  uint16_t taken_port = net::local_port(taken.get());
  auto s = std::const_pointer_cast<compile::Snapshot>(make_snapshot(upstream_.port()));
  compile::Listener extra = s->listeners.front();
  extra.name = "127.0.0.1_" + std::to_string(taken_port);
  extra.listen_port = taken_port;
  s->listeners.push_back(extra);
  s->version = 2;
  auto errors = server_->publish(s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find(extra.name), std::string::npos);
  EXPECT_FALSE(server_->ready());
  // The unchanged listener keeps its port and keeps serving.
  EXPECT_EQ(server_->listener_port(kListener), port_);
  EXPECT_EQ(get("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").status, 200);
}

// Where Envoy answers 403 upgrade_failed, unknown Upgrade tokens are ignored
// (hop-by-hop, stripped) and the request is served as HTTP/1.1. CONNECT is 403.
TEST_F(ServerTest, UnknownUpgradeIsIgnoredAndConnectIs403) {
  start();
  ClientResponse r =
      get("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  r = get("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(r.status, 403);
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.get("upgrade"), nullptr);
  EXPECT_EQ(requests[0].headers.get("connection"), nullptr);
}

TEST_F(ServerTest, H2cUpgradeIsIgnoredAndRequestServedAsHttp11) {
  start();
  TestClient client(port_);
  client.send(
      "GET /h2c HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 200);
  client.send("GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(client.read_response().body, "path=/next");
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers.get("upgrade"), nullptr);
  EXPECT_EQ(requests[0].headers.get("http2-settings"), nullptr);
}

TEST_F(ServerTest, IdleDownstreamConnectionIsClosedAfterTimeout) {
  ServerOptions options;
  options.downstream_idle_timeout_ms = 100;
  start(options);
  TestClient client(port_);
  client.send("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(client.peer_closed());
}

TEST_F(ServerTest, IncompleteHeadersTimeOutWith408) {
  ServerOptions options;
  options.request_headers_timeout_ms = 100;
  start(options);
  TestClient client(port_);
  client.send("GET / HTTP/1.1\r\nHost: exam");
  ClientResponse r = client.read_response();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.body, "request header timeout");
}

TEST_F(ServerTest, NewSnapshotAppliesToNextRequestOnSameConnection) {
  start();
  TestClient client(port_);
  client.send("GET /before HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  // Version 2: example.com now routes everything to the cluster without endpoints.
  auto s = std::const_pointer_cast<compile::Snapshot>(make_snapshot(upstream_.port()));
  s->version = 2;
  auto table = std::make_shared<router::RouteTable>();
  table->add_virtual_host("example.com")
      .routes.push_back(prefix_route("/", "outbound|80||empty", s->clusters[1].get()));
  table->finalize();
  s->listeners.front().routes = table;
  EXPECT_TRUE(server_->publish(s).empty());
  EXPECT_EQ(server_->listener_port(kListener), port_);  // same listener, untouched
  ClientResponse r;
  eventually([&] {  // the swap reaches the worker asynchronously
    client.send("GET /after HTTP/1.1\r\nHost: example.com\r\n\r\n");
    r = client.read_response();
    return r.status == 503;
  });
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "no healthy upstream");
}

TEST_F(ServerTest, DrainLetsInFlightRequestFinishWithConnectionClose) {
  start();
  TestClient client(port_);
  client.send("GET /slow HTTP/1.1\r\nHost: example.com\r\n\r\n");
  // Drain once the request is in flight (the upstream holds /slow for 300 ms).
  ASSERT_TRUE(eventually([&] { return !upstream_.requests().empty(); }));
  std::thread stopper([this] { server_->drain_and_stop(); });
  ClientResponse r = client.read_response();
  stopper.join();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "path=/slow");
  EXPECT_EQ(r.header("connection"), "close");
  // No new connections once draining.
  TestClient late(port_);
  EXPECT_FALSE(late.connected() && late.send("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n") &&
               late.read_response().complete);
}

TEST_F(ServerTest, ConnectTimeoutIs503ConnectionFailure) {
  start();
  // An endpoint whose accept queue is full drops our SYN: the connect hangs.
  std::string error;
  net::UniqueFd full = net::listen_tcp("127.0.0.1", 0, false, 0, error);
  uint16_t full_port = net::local_port(full.get());
  sockaddr_storage addr;
  socklen_t len;
  net::make_sockaddr("127.0.0.1", full_port, addr, len);
  std::vector<net::UniqueFd> fillers;  // non-blocking connects: the later ones just hang
  for (int i = 0; i < 3; ++i) {
    int e = 0;
    fillers.push_back(net::connect_tcp(reinterpret_cast<sockaddr*>(&addr), len, e));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto s = std::const_pointer_cast<compile::Snapshot>(make_snapshot(upstream_.port()));
  s->version = 2;
  auto dead = make_cluster("outbound|80||dead", 2, {full_port});
  dead->connect_timeout_ms = 100;
  s->clusters[2] = std::move(dead);
  s->clusters_by_name["outbound|80||dead"] = s->clusters[2].get();
  auto table = std::make_shared<router::RouteTable>();
  table->add_virtual_host("example.com")
      .routes.push_back(prefix_route("/", "outbound|80||dead", s->clusters[2].get()));
  table->finalize();
  s->listeners.front().routes = table;
  ASSERT_TRUE(server_->publish(s).empty());
  ClientResponse r;
  eventually([&] {  // until the worker has the new snapshot
    r = get("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    return r.status == 503;
  });
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  EXPECT_GE(stat(*server_, "upstream_cx_connect_timeout"), 1u);
}

TEST_F(ServerTest, ListenerGoneFromSnapshotIsClosed) {
  start();
  auto s = std::make_shared<compile::Snapshot>();
  s->version = 2;
  EXPECT_TRUE(server_->publish(s).empty());
  EXPECT_EQ(server_->listener_port(kListener), 0);
  EXPECT_TRUE(eventually([&] { return !TestClient(port_).connected(); }));  // the workers close it
}

// --port-map GW=0: the kernel picks the port once; reloads keep the listener
// and its port, and a listener that goes and comes back asks for it again.
TEST_F(ServerTest, PortZeroListenerKeepsItsPort) {
  start();  // kListener is configured with port 0
  auto again = std::const_pointer_cast<compile::Snapshot>(make_snapshot(upstream_.port()));
  again->version = 2;
  ASSERT_TRUE(server_->publish(again).empty());
  EXPECT_EQ(server_->listener_port(kListener), port_);

  auto none = std::make_shared<compile::Snapshot>();
  none->version = 3;
  ASSERT_TRUE(server_->publish(none).empty());
  // Every worker closes its own socket of the SO_REUSEPORT group when it
  // adopts version 3: one refused connect does not show they all have (a
  // socket still open would join the new group and take connections).
  ASSERT_TRUE(eventually([&] { return server_->serving_since_us(3) >= 0; }));
  EXPECT_FALSE(TestClient(port_).connected());
  auto back = std::const_pointer_cast<compile::Snapshot>(make_snapshot(upstream_.port()));
  back->version = 4;
  ASSERT_TRUE(server_->publish(back).empty());
  EXPECT_EQ(server_->listener_port(kListener), port_);
  EXPECT_EQ(get("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n").status, 200);
}

TEST_F(ServerTest, DrainClosesIdleConnectionsAndStops) {
  // Idle connections are closed at once, not kept until the drain timeout:
  // with a 60 s timeout, anything well under it shows that (a loaded machine
  // may take seconds; the bound is not a speed claim).
  ServerOptions options;
  options.drain_timeout_ms = 60 * 1000;
  start(options);
  TestClient client(port_);
  client.send("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 200);
  auto begin = std::chrono::steady_clock::now();
  server_->drain_and_stop();
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_LT(took, std::chrono::seconds(30));
  EXPECT_TRUE(client.peer_closed());
}

TEST_F(ServerTest, HandedOverSocketsServeConnectionsQueuedBeforeTheNewServerStarted) {
  // A hot upgrade (cli/upgrade.h) hands over the very sockets: connections
  // the kernel queued on any worker's socket while neither process accepted
  // are accepted by the new server, none is refused or lost.
  start();
  std::string error;
  std::vector<ListenerSockets> handed = server_->export_listeners(error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(handed[0].name, kListener);
  EXPECT_EQ(handed[0].bound_port, port_);
  ASSERT_EQ(handed[0].sockets.size(), 2u);  // one SO_REUSEPORT socket per worker

  server_->drain_and_stop(DrainKind::Upgrade);  // nothing in flight: stops at once
  server_.reset();
  // Nobody accepts now; the sockets live on in `handed`, so these connect and wait in the queues.
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<TestClient>(port_));
    ASSERT_TRUE(clients.back()->connected()) << i;
    ASSERT_TRUE(clients.back()->send("GET /queued HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  }

  ServerOptions options;
  options.workers = 3;  // one more worker than sockets: it adds its own to the group
  Server next(options);
  next.inherit_listeners(std::move(handed));
  next.start();
  auto errors = next.publish(make_snapshot(upstream_.port()));
  ASSERT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(next.listener_port(kListener), port_);  // port 0 configured: the same port
  for (auto& client : clients) EXPECT_EQ(client->read_response().status, 200);
  EXPECT_EQ(stat(next, "downstream_rq_total"), 20u);
  next.drain_and_stop();
}

}  // namespace
}  // namespace torii::proxy
