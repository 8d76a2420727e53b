// A request waiting for a connection to its endpoint: Envoy's PendingStream
// (source/common/conn_pool/conn_pool_base.cc). ConnectionPool::new_stream
// queues one when the endpoint has no idle connection; it leaves the queue
// when a connection is handed to it (on_pool_ready), when the connection
// made for the queue fails (on_pool_failure: every queued request of the
// endpoint, as Envoy's purgePendingStreams), or when its owner gives up
// (ConnectionPool::cancel: route timeout, downstream reset).
//
// The queue is intrusive (PendingQueue links the requests themselves), so
// queueing allocates nothing and leaving it is O(1). The pool calls back
// from the event loop only (a connection's event or timer), never from
// inside a call the request makes.
//
// Owned by the request that derives from it; worker thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace torii::upstream {

class ClusterRequest;
class PendingQueue;
class UpstreamConnection;
class Http2ClientConnection;
struct EndpointState;

enum class PoolFailure {
  Overflow,        // http2MaxRequests reached when the connection came: 503 UO
  ConnectFailed,   // the connection made for the queue was refused / reset / failed its TLS handshake
  ConnectTimeout,  // ... or timed out (cluster connect timeout)
};

class PendingRequest {
 public:
  // A connected connection for this request, already counted against
  // http2MaxRequests (ClusterRequest::attach). `fresh`: it was opened for
  // the queue and carried no request before.
  virtual void on_pool_ready(std::unique_ptr<UpstreamConnection> connection, bool fresh) = 0;
  // HTTP/2: a connection with room for one more stream, which the request
  // opens at once (ConnectionPool::new_http2_stream queued it).
  virtual void on_pool_ready(Http2ClientConnection& connection, bool fresh) = 0;
  // No connection will come. `transport_failure_reason`: why the TLS
  // handshake failed, if that was the failure.
  virtual void on_pool_failure(PoolFailure failure, std::string_view transport_failure_reason) = 0;

  bool queued() const { return queue_ != nullptr; }

 protected:
  PendingRequest() = default;
  virtual ~PendingRequest() = default;
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

 private:
  friend class PendingQueue;
  friend class ConnectionPool;

  PendingRequest* prev_ = nullptr;
  PendingRequest* next_ = nullptr;
  PendingQueue* queue_ = nullptr;  // null: not queued
  // Set by ConnectionPool::new_stream while queued.
  ClusterRequest* request_ = nullptr;
  // TLS origination: only a connection made for this name will do. A copy:
  // the request's headers may change while it waits. Empty (no allocation)
  // without TLS origination.
  std::string sni_;
  uint64_t queued_ms_ = 0;
  bool http2_ = false;  // waits for an HTTP/2 stream
};

// FIFO of pending requests (Envoy attaches the oldest first).
class PendingQueue {
 public:
  PendingQueue() = default;
  PendingQueue(const PendingQueue&) = delete;
  PendingQueue& operator=(const PendingQueue&) = delete;

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  PendingRequest* front() const { return head_; }
  static PendingRequest* next(const PendingRequest& request) { return request.next_; }

  void push_back(PendingRequest& request) {
    request.queue_ = this;
    request.prev_ = tail_;
    request.next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = &request;
    tail_ = &request;
    ++size_;
  }
  void remove(PendingRequest& request) {
    (request.prev_ != nullptr ? request.prev_->next_ : head_) = request.next_;
    (request.next_ != nullptr ? request.next_->prev_ : tail_) = request.prev_;
    request.prev_ = request.next_ = nullptr;
    request.queue_ = nullptr;
    --size_;
  }
  // Moves every request of `other` to the (empty) this queue.
  void take_all(PendingQueue& other) {
    head_ = other.head_;
    tail_ = other.tail_;
    size_ = other.size_;
    other.head_ = other.tail_ = nullptr;
    other.size_ = 0;
    for (PendingRequest* r = head_; r != nullptr; r = r->next_) r->queue_ = this;
  }

 private:
  PendingRequest* head_ = nullptr;
  PendingRequest* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace torii::upstream
