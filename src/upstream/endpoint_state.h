// Per-worker mutable state of one endpoint (address:port) of one cluster:
// requests in flight (for least-request balancing) and its connection pool
// (Envoy has one pool per host per worker): idle connections, connections
// being opened for the queue, and the requests waiting for one. Keyed by
// endpoint address so it survives a snapshot swap that keeps the endpoint.
//
// Owned by its ClusterState; loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "upstream/pending_request.h"
#include "upstream/shared_endpoint_state.h"

namespace torii::upstream {

class SharedClusterState;
class UpstreamConnection;
class Http2ClientConnection;

struct EndpointState {
  EndpointState();
  ~EndpointState();
  EndpointState(const EndpointState&) = delete;
  EndpointState& operator=(const EndpointState&) = delete;

  std::string key;  // "address:port"
  // The process-wide side of this endpoint (outlier state, counts) and its
  // cluster's shared state (circuit breakers, stats). Set by ClusterState;
  // the cluster outlives its endpoint states.
  std::shared_ptr<SharedEndpointState> shared;
  SharedClusterState* cluster = nullptr;
  uint32_t active_requests = 0;   // queued or in flight
  uint32_t open_connections = 0;  // idle + in use + connecting + closing, until destroyed
  // Envoy's ready + busy + connecting clients: open and not being closed.
  // A pool with none may open one over tcp.maxConnections (see
  // ConnectionPool::try_create_connections).
  uint32_t pool_connections = 0;
  // Idle keep-alive connections; the most recently used is at the back
  // (LIFO: a warm connection is least likely to have been closed by the
  // upstream's own idle timeout).
  std::vector<std::unique_ptr<UpstreamConnection>> idle;
  // Opened for the queue, not yet connected (owned by the pool).
  std::vector<std::unique_ptr<UpstreamConnection>> connecting;
  // HTTP/2 connections (connected), each carrying streams up to its limit;
  // they close themselves when idle or drained (upstream/http2_client.h).
  // After `connecting`: destroyed first.
  std::vector<std::unique_ptr<Http2ClientConnection>> http2;
  // Requests waiting for a connection, oldest first; `pending_http2` of
  // them want an HTTP/2 stream, the others an HTTP/1 connection.
  PendingQueue pending;
  uint32_t pending_http2 = 0;

  bool unused() const { return active_requests == 0 && open_connections == 0; }
};

std::string endpoint_key(const std::string& address, uint16_t port);

}  // namespace torii::upstream
