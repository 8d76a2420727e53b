// The admin endpoint (Envoy's :15000): a small HTTP/1.1 server on its own
// thread, one request per connection. It is for operators on loopback, not for
// traffic, so it is deliberately simple: blocking I/O with short timeouts.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace torii::admin {

struct AdminRequest {
  std::string method;
  std::string path;   // without query
  std::string query;  // without '?'
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  AdminServer(std::string address, uint16_t port, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and starts the thread; false with `error` set if the bind failed.
  bool start(std::string& error);
  void stop();
  uint16_t port() const { return port_; }

  // Hot upgrade (cli/upgrade.h): before start(), a listening socket to serve
  // on instead of binding (the replaced process's admin socket: the admin
  // port stays the same, --admin ADDR:0 included); after it, the socket
  // (-1 if not started), for the process taking over.
  void adopt_socket(int fd) { adopted_fd_ = fd; }
  int listen_fd() const { return listen_fd_; }

 private:
  bool bind_socket(std::string& error);
  void run();
  void serve_one(int fd);

  std::string address_;
  uint16_t port_;
  Handler handler_;
  int listen_fd_ = -1;
  int adopted_fd_ = -1;
  int wake_fd_ = -1;  // eventfd to stop the thread
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Percent-decodes a query parameter value ("a%20b+c" -> "a b c").
std::string url_decode(const std::string& s);
// Value of `key` in a query string, or "" (first occurrence).
std::string query_param(const std::string& query, const std::string& key);

}  // namespace torii::admin
