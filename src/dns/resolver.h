// Asynchronous DNS resolution with c-ares, driven by one net::EventLoop.
//
// c-ares owns its sockets; the resolver watches a dup() of each one in the
// loop (so the loop's IoWatch may close its copy freely) and runs c-ares'
// timeouts on a loop timer. Nothing here blocks the loop, and everything runs
// on the loop's thread: construct, resolve() and destroy on that thread.
//
// Lookups are IPv4 only (Envoy's dns_lookup_family V4_ONLY, what Istio sets
// for an IPv4 proxy) and consult /etc/hosts first, as Envoy's c-ares resolver
// does.
#pragma once

#include <ares.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/event_loop.h"
#include "net/timer.h"

namespace torii::dns {

struct ResolverOptions {
  // "ip:port" or "ip" (port 53) name servers; empty: /etc/resolv.conf.
  std::vector<std::string> servers;
  uint32_t query_timeout_ms = 5000;  // c-ares' default per try
  uint32_t tries = 3;
};

struct Resolution {
  enum class Status {
    kOk,        // addresses is not empty
    kNotFound,  // the name has no IPv4 address (NXDOMAIN or no A record)
    kFailed,    // time-out, refused, bad reply, ...: says nothing about the name
  };
  Status status = Status::kFailed;
  std::vector<std::string> addresses;  // sorted, unique, IPv4 text
  // Smallest TTL of the answer's records, in seconds (0: the answer carried
  // none, e.g. from /etc/hosts).
  uint32_t ttl_s = 0;
  std::string error;  // c-ares' message when status != kOk
};

class Resolver {
 public:
  using Callback = std::function<void(const Resolution&)>;

  Resolver(net::EventLoop& loop, ResolverOptions options);
  // Pending and posted callbacks are not called.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Empty if the channel is usable, else why not (bad server address, ...).
  const std::string& init_error() const { return init_error_; }

  // Resolves `host` (a name or an IPv4 literal) and calls `callback` later,
  // on the loop thread, never from inside resolve().
  void resolve(const std::string& host, Callback callback);

  size_t pending() const { return pending_; }

 private:
  class SocketWatch;
  struct Query;

  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_addrinfo(void* arg, int status, int timeouts, struct ares_addrinfo* result);
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void rearm_timer();
  void post_callback(Callback callback, Resolution resolution);

  net::EventLoop& loop_;
  ares_channel channel_ = nullptr;
  std::string init_error_;
  std::map<ares_socket_t, std::unique_ptr<SocketWatch>> sockets_;
  net::Timer timer_;
  size_t pending_ = 0;
  bool in_resolve_ = false;
  bool destroying_ = false;
  // Expires with the resolver, so posted callbacks never outlive it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace torii::dns
