// ConnectionPool::new_stream: Envoy's pending queue and the circuit breakers
// around it (tcp.maxConnections, http1MaxPendingRequests, http2MaxRequests),
// against a real listening socket on loopback.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/socket_ops.h"
#include "net/tcp_listener.h"
#include "test_acceptor.h"
#include "upstream/cluster_request.h"
#include "upstream/cluster_state.h"
#include "upstream/connection_pool.h"

namespace torii::upstream {
namespace {

using test_support::Acceptor;

// One request: a ClusterRequest plus what the pool reports to it.
struct Request final : PendingRequest, net::ConnectionCallbacks {
  ClusterRequest cluster_request;
  std::unique_ptr<UpstreamConnection> connection;
  bool ready = false;
  bool fresh = false;
  bool failed = false;
  PoolFailure failure = PoolFailure::Overflow;

  void on_pool_ready(std::unique_ptr<UpstreamConnection> c, bool is_fresh) override {
    connection = std::move(c);
    connection->unpark(*this);
    ready = true;
    fresh = is_fresh;
  }
  void on_pool_ready(Http2ClientConnection&, bool is_fresh) override {
    ready = true;
    fresh = is_fresh;
  }
  void on_pool_failure(PoolFailure f, std::string_view) override {
    failed = true;
    failure = f;
  }
  void on_data(net::Buffer& in) override { in.clear(); }
  void on_eof() override {}
  void on_close(net::CloseReason, int) override {}
};

class ConnectionPoolQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    net::UniqueFd fd = net::listen_tcp("127.0.0.1", 0, false, 64, error);
    ASSERT_TRUE(fd.valid()) << error;
    port = net::local_port(fd.get());
    listener = std::make_unique<net::TcpListener>(loop, std::move(fd), acceptor);
    info.name = "c";
    Endpoint e;
    e.address = "127.0.0.1";
    e.port = port;
    ASSERT_TRUE(resolve_numeric(e));
    info.endpoints.push_back(e);
  }
  void TearDown() override {
    for (auto& r : requests) {
      pool.cancel(*r);
      r->cluster_request.finish();
      if (r->connection) pool.close(std::move(r->connection));
    }
    pool.close_idle(state.endpoint_state(0));
    loop.flush_deferred_deletes();
  }

  // Runs the loop until `done` holds (or 2 s pass).
  template <typename F>
  void run_until(F done) {
    net::Timer stop(loop, [this] { loop.stop(); });
    net::Timer tick(loop, [&] {
      if (done()) {
        loop.stop();
      } else {
        tick.arm(1);
      }
    });
    tick.arm(1);
    stop.arm(2000);
    loop.run();
  }
  void run_for(uint64_t ms) {
    net::Timer stop(loop, [this] { loop.stop(); });
    stop.arm(ms);
    loop.run();
  }

  // A request to the cluster's only endpoint, through new_stream.
  Request& send(ConnectionPool::StreamStatus expected) {
    requests.push_back(std::make_unique<Request>());
    Request& r = *requests.back();
    EXPECT_EQ(r.cluster_request.start(state, info, std::nullopt, random, loop.now_ms()),
              ClusterRequest::Admission::Ok);
    std::unique_ptr<UpstreamConnection> out;
    ConnectionPool::StreamStatus status = pool.new_stream(r.cluster_request, r, {}, r, true, out);
    EXPECT_EQ(status, expected);
    if (out) {
      r.connection = std::move(out);
      r.ready = true;
    }
    return r;
  }
  // The exchange on `r` ended cleanly: its connection goes back to the pool.
  void finish(Request& r) {
    r.connection->count_request_served();
    r.cluster_request.finish();
    pool.release(std::move(r.connection), info);
  }
  ClusterStats& stats() { return state.shared().stats(); }
  uint64_t stat(const std::atomic<uint64_t>& s) { return s.load(); }
  uint64_t breaker(ClusterCircuitBreaker::Resource r) { return state.shared().circuit_breaker().active(r); }

  net::EventLoop loop;
  Acceptor acceptor;
  std::unique_ptr<net::TcpListener> listener;
  uint16_t port = 0;
  ClusterInfo info;
  ClusterState state{"c"};
  FastRandom random{1};
  ConnectionPool pool{loop, 60000};
  std::vector<std::unique_ptr<Request>> requests;
};

using Status = ConnectionPool::StreamStatus;
using Resource = ClusterCircuitBreaker::Resource;

TEST_F(ConnectionPoolQueueTest, WaitsForTheConnectionOpenedForIt) {
  Request& a = send(Status::Queued);
  EXPECT_TRUE(a.queued());
  EXPECT_EQ(stat(stats().upstream_rq_pending_active), 1u);
  EXPECT_EQ(breaker(Resource::PendingRequests), 1u);
  run_until([&] { return a.ready; });
  ASSERT_TRUE(a.ready);
  EXPECT_TRUE(a.fresh);
  EXPECT_FALSE(a.queued());
  EXPECT_EQ(stat(stats().upstream_rq_pending_total), 1u);
  EXPECT_EQ(stat(stats().upstream_rq_pending_active), 0u);
  EXPECT_EQ(breaker(Resource::PendingRequests), 0u);
  EXPECT_EQ(breaker(Resource::Requests), 1u);  // attached
  EXPECT_EQ(stat(stats().upstream_rq_total), 1u);
  // Kept alive: the next request takes it at once.
  finish(a);
  Request& b = send(Status::Ready);
  EXPECT_TRUE(b.ready);
  EXPECT_EQ(stat(stats().upstream_rq_pending_total), 1u);
}

TEST_F(ConnectionPoolQueueTest, PendingLimitOverflows) {
  info.policy.write().limits.max_pending_requests = 1;
  send(Status::Queued);
  send(Status::Overflow);
  EXPECT_EQ(stat(stats().upstream_rq_pending_overflow), 1u);
  EXPECT_EQ(stat(stats().upstream_rq_pending_active), 1u);
}

TEST_F(ConnectionPoolQueueTest, AtTheConnectionLimitRequestsWaitAndGoOldestFirst) {
  info.policy.write().limits.max_connections = 1;
  Request& a = send(Status::Queued);
  run_until([&] { return a.ready; });
  ASSERT_TRUE(a.ready);
  Request& b = send(Status::Queued);
  Request& c = send(Status::Queued);
  EXPECT_GE(stat(stats().upstream_cx_overflow), 2u);  // no second connection for them
  EXPECT_TRUE(state.endpoint_state(0).connecting.empty());
  run_for(20);
  EXPECT_FALSE(b.ready);
  EXPECT_FALSE(c.ready);
  // a's exchange ends: the connection goes to b (first in, first out),
  // once the events at hand are handled.
  finish(a);
  EXPECT_FALSE(b.ready);
  run_until([&] { return b.ready; });
  EXPECT_TRUE(b.ready);
  EXPECT_FALSE(b.fresh);
  EXPECT_FALSE(c.ready);
  EXPECT_TRUE(c.queued());
  // maxRequestsPerConnection 1: b's connection closes after its exchange,
  // which frees the slot for a new one for c.
  info.policy.write().connection.max_requests_per_connection = 1;
  finish(b);
  run_until([&] { return c.ready; });
  EXPECT_TRUE(c.ready);
  EXPECT_TRUE(c.fresh);
  EXPECT_EQ(breaker(Resource::Connections), 1u);
  EXPECT_EQ(stat(stats().upstream_rq_pending_active), 0u);
}

TEST_F(ConnectionPoolQueueTest, APoolWithoutConnectionsOpensOneOverTheLimit) {
  // Other workers hold every connection the cluster may have.
  info.policy.write().limits.max_connections = 1;
  state.shared().circuit_breaker().acquire(Resource::Connections);
  Request& a = send(Status::Queued);
  EXPECT_EQ(stat(stats().upstream_cx_overflow), 1u);
  EXPECT_EQ(state.endpoint_state(0).connecting.size(), 1u);
  EXPECT_EQ(breaker(Resource::Connections), 2u);
  run_until([&] { return a.ready; });
  EXPECT_TRUE(a.ready);
  // The pool has a connection now: the next request waits for it.
  Request& b = send(Status::Queued);
  EXPECT_TRUE(state.endpoint_state(0).connecting.empty());
  EXPECT_FALSE(b.ready);
  state.shared().circuit_breaker().release(Resource::Connections);
}

TEST_F(ConnectionPoolQueueTest, MaxRequestsIsCheckedWhenTheConnectionComes) {
  info.policy.write().limits.max_requests = 1;
  Request& a = send(Status::Queued);
  Request& b = send(Status::Queued);
  // Waiting requests hold no http2MaxRequests slot.
  EXPECT_EQ(breaker(Resource::Requests), 0u);
  run_until([&] { return a.ready && b.failed; });
  EXPECT_TRUE(a.ready);
  ASSERT_TRUE(b.failed);
  EXPECT_EQ(b.failure, PoolFailure::Overflow);
  EXPECT_EQ(stat(stats().upstream_rq_pending_overflow), 1u);
  // The connection opened for b stays for the next request, which also
  // finds the limit reached.
  run_for(20);
  EXPECT_EQ(state.endpoint_state(0).idle.size(), 1u);
  send(Status::Overflow);
  EXPECT_EQ(state.endpoint_state(0).idle.size(), 1u);
}

TEST_F(ConnectionPoolQueueTest, CancelLeavesTheQueueAndClosesTheExcessConnection) {
  Request& a = send(Status::Queued);
  EXPECT_EQ(state.endpoint_state(0).connecting.size(), 1u);
  pool.cancel(a);
  EXPECT_FALSE(a.queued());
  EXPECT_EQ(stat(stats().upstream_rq_cancelled), 1u);
  EXPECT_EQ(stat(stats().upstream_rq_pending_active), 0u);
  EXPECT_EQ(breaker(Resource::PendingRequests), 0u);
  EXPECT_TRUE(state.endpoint_state(0).connecting.empty());
  EXPECT_EQ(breaker(Resource::Connections), 0u);
  run_for(20);
  EXPECT_FALSE(a.ready);
  EXPECT_FALSE(a.failed);
}

TEST_F(ConnectionPoolQueueTest, AConnectFailureFailsEveryWaitingRequest) {
  listener.reset();  // nothing listens on the port any more
  Request& a = send(Status::Queued);
  Request& b = send(Status::Queued);
  // Never inside the call that queued them.
  EXPECT_FALSE(a.failed);
  EXPECT_FALSE(b.failed);
  run_until([&] { return a.failed && b.failed; });
  EXPECT_TRUE(a.failed);
  EXPECT_TRUE(b.failed);
  EXPECT_EQ(a.failure, PoolFailure::ConnectFailed);
  EXPECT_EQ(stat(stats().upstream_rq_pending_failure_eject), 2u);
  EXPECT_GE(stat(stats().upstream_cx_connect_fail), 1u);
  EXPECT_EQ(stat(stats().upstream_rq_pending_active), 0u);
  run_for(5);
  EXPECT_EQ(breaker(Resource::Connections), 0u);
  EXPECT_TRUE(state.endpoint_state(0).connecting.empty());
}

TEST_F(ConnectionPoolQueueTest, WaitTimeIsRecorded) {
  info.policy.write().limits.max_connections = 1;
  Request& a = send(Status::Queued);
  run_until([&] { return a.ready; });
  Request& b = send(Status::Queued);
  run_for(30);
  finish(a);
  run_until([&] { return b.ready; });
  ASSERT_TRUE(b.ready);
  EXPECT_GE(stat(stats().torii_rq_pending_wait_ms_max), 30u);
  EXPECT_GE(stat(stats().torii_rq_pending_wait_ms_total), 30u);
}

}  // namespace
}  // namespace torii::upstream
