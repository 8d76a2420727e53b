// A blocking client of etcd's v3 JSON gateway (etcd 3.4+: POST /v3/kv/range,
// /v3/kv/txn, /v3/watch, /v3/lease/*, /v3/auth/authenticate) over HTTP/1.1,
// plain or TLS (OpenSSL), for the control thread and the CLI: it never runs on
// a worker. Requests are parsed with Torii's own HTTP/1 response parser
// (http/http1_parser.h), so chunked streams (watch) are read incrementally.
//
// Endpoints: every request goes to the endpoint that answered last; one that
// cannot be reached, or answers that it has no leader, is left for the next
// one of the list. A member without a leader cannot serve a linearizable read
// or a write, so trying the next member is how the client follows the
// leader (any member forwards to it). The watch stream asks etcd to cancel it
// when its member loses the leader (the `hasleader` metadata), so a
// partitioned member does not keep a watch that would never see a change.
//
// Authentication: with a user, the password file is read once and
// /v3/auth/authenticate gives a token sent on every request; an expired
// token (etcd's simple tokens live 5 minutes) is renewed once and the
// request retried.
//
// One thread at a time (the control thread in `torii run`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sources/etcd_wire.h"

namespace torii::sources {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // --etcd http(s)://H:P[,...]
  std::string prefix = "/torii/";      // --etcd-prefix
  std::string user;                    // --etcd-user
  std::string password_file;           // --etcd-password-file
  std::string cacert;                  // --etcd-cacert: CA for https endpoints (else the system's)
  std::string cert;                    // --etcd-cert: client certificate (PEM chain)
  std::string key;                     // --etcd-key: its private key
  int timeout_ms = 5000;               // each read and write of one request (connect: at most 2 s)
  bool enabled() const { return !endpoints.empty(); }
};

// "http://127.0.0.1:2379,https://[::1]:2379" -> the list; false with `error`
// for an empty item or a scheme other than http/https.
bool parse_endpoints(const std::string& value, std::vector<std::string>& out, std::string& error);

struct EtcdError {
  // No endpoint could be reached (connect, TLS, I/O, or every member said it
  // has no leader): the CLI's exit code 2.
  bool unreachable = false;
  std::string message;
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const EtcdOptions& options() const { return options_; }
  // A tighter bound for the requests that follow (0: the options' again):
  // status writes must not hold the control thread while a member waits
  // for a leader, since the watch's events wait behind them.
  void set_timeout_override(int ms) { timeout_override_ms_ = ms; }
  int timeout_ms() const { return timeout_override_ms_ > 0 ? timeout_override_ms_ : options_.timeout_ms; }
  // The endpoint that answered last (or will be tried first).
  const std::string& endpoint() const { return options_.endpoints[current_]; }

  // Keys in [key, range_end) (range_end empty: `key` alone) at `revision` (0: the newest).
  bool range(std::string_view key, std::string_view range_end, int64_t revision, RangeResponse& out,
             EtcdError& error);
  bool range_prefix(std::string_view prefix, RangeResponse& out, EtcdError& error) {
    return range(prefix, prefix_range_end(prefix), 0, out, error);
  }
  bool txn(const std::vector<TxnCompare>& compares, const std::vector<TxnOp>& success,
           const std::vector<TxnOp>& failure, TxnResponse& out, EtcdError& error);
  bool put(const std::string& key, const std::string& value, int64_t lease, EtcdError& error);
  // Compaction up to `revision` (tests and operators; etcd compacts by itself with --auto-compaction-*).
  bool compact(int64_t revision, EtcdError& error);

  bool lease_grant(int64_t ttl_s, int64_t& id, EtcdError& error);
  // `ttl_s` left after the refresh; 0 when the lease has expired (re-create it).
  bool lease_keepalive(int64_t id, int64_t& ttl_s, EtcdError& error);
  bool lease_revoke(int64_t id, EtcdError& error);

  // The watch stream: one at a time, on its own connection. start_watch()
  // sends the create request (from `start_revision`; 0: from now) and waits
  // for etcd to confirm it (or to say it was compacted: the messages read
  // then hold that). Then poll watch_fd() and call read_watch() when readable.
  bool start_watch(std::string_view key, std::string_view range_end, int64_t start_revision,
                   std::vector<WatchMessage>& first, EtcdError& error);
  int watch_fd() const;
  // Complete messages read so far (none: wait for more). False when the
  // stream ended or failed (`error` says why): stop_watch() and start again.
  bool read_watch(std::vector<WatchMessage>& out, std::string& error);
  void stop_watch();

 private:
  struct Connection;
  struct Response;

  // POST `path` to the current endpoint, moving on through the list on
  // failure; renews the auth token once if etcd says it expired.
  bool call(const std::string& path, const nlohmann::json& body, nlohmann::json& reply, EtcdError& error);
  // One attempt on one endpoint: false with `transport` set when the endpoint
  // could not be reached or dropped the request.
  bool call_endpoint(size_t index, const std::string& path, const std::string& body, Response& response,
                     std::string& error);
  bool authenticate(size_t index, std::string& error);
  bool connect(size_t index, Connection& connection, std::string& error);
  std::string request_head(size_t index, const std::string& path, size_t content_length, bool stream) const;

  EtcdOptions options_;
  size_t current_ = 0;
  int timeout_override_ms_ = 0;
  void* tls_ = nullptr;  // SSL_CTX*, made on first use of an https endpoint
  std::string tls_error_;
  std::string password_;
  std::string token_;
  std::unique_ptr<Connection> watch_;
};

}  // namespace torii::sources
