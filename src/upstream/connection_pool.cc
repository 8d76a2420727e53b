#include "upstream/connection_pool.h"

#include <algorithm>

namespace torii::upstream {

ConnectionPool::ConnectionPool(net::EventLoop& loop, uint32_t idle_timeout_ms,
                               std::atomic<uint64_t>* cx_active)
    : loop_(loop), idle_timeout_ms_(idle_timeout_ms), cx_active_(cx_active) {}

std::unique_ptr<UpstreamConnection> ConnectionPool::take_idle(EndpointState& endpoint,
                                                              net::ConnectionCallbacks& user) {
  while (!endpoint.idle.empty()) {
    std::unique_ptr<UpstreamConnection> c = std::move(endpoint.idle.back());
    endpoint.idle.pop_back();
    if (!c->connection().is_open() || c->connection().peer_closed()) {
      loop_.defer_delete(std::move(c));
      continue;
    }
    c->unpark(user);
    return c;
  }
  return nullptr;
}

std::unique_ptr<UpstreamConnection> ConnectionPool::connect(EndpointState& endpoint, const Endpoint& address,
                                                            uint32_t timeout_ms,
                                                            net::ConnectionCallbacks& user, int& error_no) {
  auto c = std::make_unique<UpstreamConnection>(loop_, *this, endpoint);
  c->connection().set_callbacks(user);
  if (!c->connection().connect(reinterpret_cast<const sockaddr*>(&address.sockaddr), address.sockaddr_len,
                               timeout_ms, error_no)) {
    return nullptr;
  }
  return c;
}

void ConnectionPool::release(std::unique_ptr<UpstreamConnection> connection) {
  EndpointState& endpoint = connection->endpoint();
  connection->park(idle_timeout_ms_);
  endpoint.idle.push_back(std::move(connection));
}

void ConnectionPool::close_idle(EndpointState& endpoint) {
  for (auto& c : endpoint.idle) {
    c->connection().close();
    loop_.defer_delete(std::move(c));
  }
  endpoint.idle.clear();
}

void ConnectionPool::drop_idle(UpstreamConnection& connection) {
  auto& idle = connection.endpoint().idle;
  auto it = std::find_if(idle.rbegin(), idle.rend(), [&](const auto& p) { return p.get() == &connection; });
  if (it == idle.rend()) return;
  std::unique_ptr<UpstreamConnection> owned = std::move(*it);
  idle.erase(std::next(it).base());
  loop_.defer_delete(std::move(owned));
}

void ConnectionPool::on_connection_opened() {
  if (cx_active_ != nullptr)
    cx_active_->store(cx_active_->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void ConnectionPool::on_connection_closed() {
  if (cx_active_ != nullptr)
    cx_active_->store(cx_active_->load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

}  // namespace torii::upstream
