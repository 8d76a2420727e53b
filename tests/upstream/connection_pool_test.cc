#include "upstream/connection_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "net/socket_ops.h"
#include "net/tcp_listener.h"
#include "reserved_ports.h"
#include "test_acceptor.h"
#include "upstream/cluster_manager.h"

namespace torii::upstream {
namespace {

using test_support::Acceptor;

struct User : net::ConnectionCallbacks {
  net::EventLoop* loop = nullptr;
  bool connected = false;
  void on_connected() override {
    connected = true;
    loop->stop();
  }
  void on_data(net::Buffer& in) override { in.clear(); }
  void on_eof() override {}
  void on_close(net::CloseReason, int) override { loop->stop(); }
};

class ConnectionPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    net::UniqueFd fd = net::listen_tcp("127.0.0.1", 0, false, 64, error);
    ASSERT_TRUE(fd.valid()) << error;
    endpoint.address = "127.0.0.1";
    endpoint.port = net::local_port(fd.get());
    ASSERT_TRUE(resolve_numeric(endpoint));
    listener = std::make_unique<net::TcpListener>(loop, std::move(fd), acceptor);
    user.loop = &loop;
  }
  void run_for(uint64_t ms) {
    net::Timer stop(loop, [this] { loop.stop(); });
    stop.arm(ms);
    loop.run();
  }
  std::unique_ptr<UpstreamConnection> connect_one(ConnectionPool& pool, EndpointState& state) {
    int err = 0;
    auto c = pool.connect(state, endpoint, 1000, user, err);
    EXPECT_NE(c, nullptr) << err;
    run_for(1000);  // until connected
    return c;
  }

  net::EventLoop loop;
  Acceptor acceptor;
  std::unique_ptr<net::TcpListener> listener;
  Endpoint endpoint;
  User user;
};

TEST_F(ConnectionPoolTest, ReusesMostRecentlyParkedFirst) {
  std::atomic<uint64_t> active{0};
  ConnectionPool pool(loop, 60000, ConnectionPool::Counters{&active});
  EndpointState state;
  auto a = connect_one(pool, state);
  auto b = connect_one(pool, state);
  EXPECT_EQ(active.load(), 2u);
  UpstreamConnection* a_raw = a.get();
  UpstreamConnection* b_raw = b.get();
  pool.release(std::move(a));
  pool.release(std::move(b));
  EXPECT_EQ(state.idle.size(), 2u);
  auto first = pool.take_idle(state, user);
  EXPECT_EQ(first.get(), b_raw);
  auto second = pool.take_idle(state, user);
  EXPECT_EQ(second.get(), a_raw);
  EXPECT_EQ(pool.take_idle(state, user), nullptr);
  first.reset();
  second.reset();
  EXPECT_EQ(active.load(), 0u);
  EXPECT_EQ(state.open_connections, 0u);
}

TEST_F(ConnectionPoolTest, IdleConnectionClosedByUpstreamIsDropped) {
  ConnectionPool pool(loop, 60000);
  EndpointState state;
  auto a = connect_one(pool, state);
  run_for(20);  // let the acceptor accept
  pool.release(std::move(a));
  ASSERT_EQ(acceptor.accepted.size(), 1u);
  acceptor.accepted.clear();  // upstream closes its side
  run_for(50);
  EXPECT_TRUE(state.idle.empty());
  EXPECT_EQ(state.open_connections, 0u);
}

TEST_F(ConnectionPoolTest, IdleTimeoutClosesConnection) {
  ConnectionPool pool(loop, 30);
  EndpointState state;
  auto a = connect_one(pool, state);
  pool.release(std::move(a));
  EXPECT_EQ(state.idle.size(), 1u);
  run_for(100);
  EXPECT_TRUE(state.idle.empty());
  EXPECT_EQ(state.open_connections, 0u);
}

TEST_F(ConnectionPoolTest, ConnectToClosedPortFails) {
  ConnectionPool pool(loop, 60000);
  EndpointState state;
  Endpoint dead = endpoint;
  dead.port = torii::testing::reserve_port();  // nothing listens there, and nothing can start to
  ASSERT_TRUE(resolve_numeric(dead));
  int err = 0;
  auto c = pool.connect(state, dead, 1000, user, err);
  if (c == nullptr) {
    EXPECT_EQ(err, ECONNREFUSED);
    return;
  }
  run_for(1000);
  EXPECT_FALSE(user.connected);
  EXPECT_FALSE(c->connection().is_open());
}

TEST(ClusterManagerTest, StateSurvivesSnapshotSwapAndGoesWhenUnused) {
  net::EventLoop loop;
  ClusterManager manager(loop, 60000, 1);
  auto make = [](std::string name, size_t index) {
    auto info = std::make_unique<ClusterInfo>();
    info->name = std::move(name);
    info->index = index;
    Endpoint e;
    e.address = "10.1.1.1";
    e.port = 80;
    resolve_numeric(e);
    info->endpoints.push_back(e);
    return info;
  };
  std::vector<std::shared_ptr<const ClusterInfo>> v1;
  v1.push_back(make("a", 0));
  v1.push_back(make("b", 1));
  manager.on_snapshot(v1, 2);
  // State is made on first use only: with 10,000 clusters most are never used by a worker.
  EXPECT_EQ(manager.cluster_state_count(), 0u);
  EndpointState* a_ep = manager.cluster(*v1[0]).endpoints(*v1[0]).states[0];
  a_ep->active_requests = 1;  // a request in flight on "a"
  manager.cluster(*v1[1]).endpoints(*v1[1]);
  EXPECT_EQ(manager.cluster_state_count(), 2u);

  std::vector<std::shared_ptr<const ClusterInfo>> v2;
  v2.push_back(make("a", 0));  // same cluster, new ClusterInfo object
  manager.on_snapshot(v2, 1);
  EXPECT_EQ(manager.cluster_state_count(), 1u);  // "b" was unused
  ClusterState& a = manager.cluster(*v2[0]);
  EXPECT_TRUE(a.bound_to(v2[0].get()));
  EXPECT_EQ(a.endpoints(*v2[0]).states[0], a_ep);
  // A request still on the old snapshot finds the same state by name.
  EXPECT_EQ(&manager.cluster(*v1[0]), &a);
  a_ep->active_requests = 0;
}

}  // namespace
}  // namespace torii::upstream
