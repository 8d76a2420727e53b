// A small blocking HTTP/1.1 upstream for in-process proxy tests: one
// thread per connection, records every request it receives, and answers
// according to the request path:
//   /close-before-response  closes the connection without answering
//   /garbage                answers bytes that are not HTTP
//   /chunked-response       answers a chunked body
//   /close-delimited        answers a body ended by closing the connection
//   /continue               sends 100 Continue before reading the body
//   /slow                   waits 300 ms, then answers like the default
//   /count                  answers the body length it received (not stored)
//   /big?<bytes>            answers <bytes> bytes of 'b', written in 1 MiB pieces
//   anything else           200 with body "path=<target>" (or the request body if any)
// Header "x-close-after: 1" makes it close the connection after answering
// (without saying so), to exercise stale pooled connections.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/http1_parser.h"
#include "net/socket_ops.h"

namespace torii::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  http::HeaderMap headers;
  std::string body;
  bool chunked = false;
};

class TestUpstream {
 public:
  TestUpstream() {
    std::string error;
    listen_fd_ = net::listen_tcp("127.0.0.1", 0, false, 128, error);
    port_ = net::local_port(listen_fd_.get());
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TestUpstream() {
    stopping_ = true;
    ::shutdown(listen_fd_.get(), SHUT_RDWR);
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  uint16_t port() const { return port_; }
  int connections_accepted() const { return accepted_.load(); }
  std::vector<ReceivedRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  // The listen socket is non-blocking: retry every millisecond. Accepted
  // sockets are blocking (accept4 without SOCK_NONBLOCK).
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          usleep(1000);
          continue;
        }
        if (stopping_) return;
        continue;
      }
      ++accepted_;
      std::lock_guard<std::mutex> lock(mutex_);
      open_fds_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  struct Sink : http::RequestCallbacks {
    ReceivedRequest current;
    int fd = -1;
    bool sent_continue = false;
    void on_request_head(http::RequestHead& head) override {
      current = ReceivedRequest{};
      current.method = head.method;
      current.target = head.target;
      current.headers = head.headers;
      current.chunked = head.chunked;
      if (head.target == "/continue" && !sent_continue) {
        std::string c = "HTTP/1.1 100 Continue\r\n\r\n";
        ssize_t n = ::send(fd, c.data(), c.size(), MSG_NOSIGNAL);
        (void)n;
        sent_continue = true;
      }
    }
    void on_request_body(std::string_view data) override {
      if (current.target == "/count") {
        counted += data.size();
      } else {
        current.body.append(data);
      }
    }
    uint64_t counted = 0;
  };

  static void send_all(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  void serve(int fd) {
    Sink sink;
    sink.fd = fd;
    http::RequestParser parser(sink, http::ParseLimits{});
    std::string pending;
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      bool close = false;
      while (!pending.empty()) {
        http::FeedResult r = parser.feed(pending);
        pending.erase(0, r.consumed);
        if (r.status == http::FeedResult::Status::Error) {
          close = true;
          break;
        }
        if (r.status != http::FeedResult::Status::MessageComplete) break;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          requests_.push_back(sink.current);
        }
        close = respond(fd, sink.current, sink.counted) || close;
        sink.sent_continue = false;
        sink.counted = 0;
        parser.resume();
        if (close) break;
      }
      if (close) break;
    }
    ::shutdown(fd, SHUT_RDWR);
    std::lock_guard<std::mutex> lock(mutex_);
    std::erase(open_fds_, fd);
    ::close(fd);
  }

  // Returns true to close the connection afterwards.
  bool respond(int fd, const ReceivedRequest& r, uint64_t counted) {
    const std::string& t = r.target;
    bool close_after = r.headers.get("x-close-after") != nullptr;
    if (t == "/close-before-response") return true;
    if (t == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (t == "/garbage") {
      send_all(fd, "this is not http at all\r\n\r\n");
      return true;
    }
    if (t == "/chunked-response") {
      send_all(fd,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer: "
               "upstream\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
      return close_after;
    }
    if (t == "/close-delimited") {
      send_all(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-the-end");
      return true;
    }
    if (t.starts_with("/big?")) {
      size_t total = std::stoul(t.substr(5));
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n");
      std::string piece(1 << 20, 'b');
      for (size_t sent = 0; sent < total; sent += piece.size()) {
        send_all(fd, piece.substr(0, std::min(piece.size(), total - sent)));
      }
      return close_after;
    }
    std::string body;
    if (t == "/count") {
      body = std::to_string(counted);
    } else if (!r.body.empty()) {
      body = r.body;
    } else {
      body = "path=" + t;
    }
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nServer: upstream\r\nX-Upstream: yes\r\n\r\n";
    send_all(fd, head + (r.method == "HEAD" ? std::string() : body));
    return close_after;
  }

  net::UniqueFd listen_fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<int> open_fds_;
  std::vector<ReceivedRequest> requests_;
};

}  // namespace torii::testing
