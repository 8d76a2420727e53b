// A blocking HTTP/1.1 client for in-process proxy tests (5 s timeouts).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

#include "http/http1_parser.h"
#include "net/socket_ops.h"

namespace torii::testing {

struct ClientResponse {
  int status = 0;
  http::HeaderMap headers;
  std::string body;
  std::vector<int> informational;
  bool complete = false;
  bool connection_closed = false;  // the proxy closed after (or instead of) this response
  std::string header(std::string_view name) const {
    const std::string_view* v = headers.get(name);
    return v ? std::string(*v) : std::string();
  }
};

class TestClient {
 public:
  explicit TestClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_storage addr;
    socklen_t len;
    net::make_sockaddr("127.0.0.1", port, addr, len);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  }
  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  ClientResponse read_response(bool head_request = false) {
    struct Sink : http::ResponseCallbacks {
      ClientResponse* out;
      void on_informational(http::ResponseHead& h) override { out->informational.push_back(h.status); }
      void on_response_head(http::ResponseHead& h) override {
        out->status = h.status;
        out->headers = h.headers;
      }
      void on_response_body(std::string_view d) override { out->body.append(d); }
    };
    ClientResponse response;
    Sink sink;
    sink.out = &response;
    http::ResponseParser parser(sink, http::ParseLimits{1 << 20, 1000});
    parser.expect_response_to(head_request);
    for (;;) {
      if (!pending_.empty()) {
        http::FeedResult r = parser.feed(pending_);
        pending_.erase(0, r.consumed);
        if (r.status == http::FeedResult::Status::MessageComplete) {
          response.complete = true;
          if (!parser.keep_alive()) response.connection_closed = peer_closed();
          return response;
        }
        if (r.status == http::FeedResult::Status::Error) return response;
      }
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        response.connection_closed = true;
        if (parser.finish().status == http::FeedResult::Status::MessageComplete) response.complete = true;
        return response;
      }
      pending_.append(buf, static_cast<size_t>(n));
    }
  }

  // True once the proxy closed the connection (EOF within the timeout).
  bool peer_closed() {
    if (!pending_.empty()) return false;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n > 0) {
      pending_.push_back(c);
      return false;
    }
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

}  // namespace torii::testing
