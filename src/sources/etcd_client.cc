#include "sources/etcd_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "http/http1_parser.h"
#include "http/http_url.h"

namespace torii::sources {

namespace {

constexpr int kConnectTimeoutMs = 2000;

struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
};

bool parse_endpoint(const std::string& url, Endpoint& out, std::string& error) {
  std::string_view trimmed = url;
  while (trimmed.ends_with('/')) trimmed.remove_suffix(1);
  http::HttpUrl parsed;
  if (!http::parse_http_url(trimmed, parsed, 2379) || !parsed.path.empty()) {
    error = "'" + url + "': expected http://HOST:PORT or https://HOST:PORT";
    return false;
  }
  out.tls = parsed.tls;
  out.host = std::move(parsed.host);
  out.port = std::to_string(parsed.port);
  return true;
}

std::string ssl_error_text() {
  const unsigned long e = ERR_get_error();
  char buffer[256] = {0};
  if (e != 0) ERR_error_string_n(e, buffer, sizeof buffer);
  ERR_clear_error();
  return e != 0 ? buffer : "TLS handshake failed";
}

// etcd's answers that mean "this member cannot serve now, another may".
bool member_unavailable(int status, const std::string& message) {
  return status == 503 || message.find("no leader") != std::string::npos ||
         message.find("leader changed") != std::string::npos ||
         message.find("request timed out") != std::string::npos ||
         message.find("not capable") != std::string::npos;
}

bool auth_expired(const std::string& message) {
  return message.find("invalid auth token") != std::string::npos ||
         message.find("user name is empty") != std::string::npos;
}

}  // namespace

bool parse_endpoints(const std::string& value, std::vector<std::string>& out, std::string& error) {
  out.clear();
  std::stringstream list(value);
  for (std::string item; std::getline(list, item, ',');) {
    Endpoint parsed;
    if (!parse_endpoint(item, parsed, error)) return false;
    out.push_back(item);
  }
  if (out.empty()) {
    error = "expected http://HOST:PORT[,http://HOST:PORT...]";
    return false;
  }
  return true;
}

struct EtcdClient::Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  std::string host_port;
  // Stream state (watch).
  struct Reader : http::ResponseCallbacks {
    int status = 0;
    std::string body;
    void on_informational(http::ResponseHead&) override {}
    void on_response_head(http::ResponseHead& head) override { status = head.status; }
    void on_response_body(std::string_view data) override { body.append(data); }
  } reader;
  http::ResponseParser parser{reader, http::ParseLimits{}};
  bool complete = false;

  ~Connection() {
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    if (fd >= 0) ::close(fd);
  }
  bool write_all(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ssl != nullptr
                            ? SSL_write(ssl, data.data() + done, static_cast<int>(data.size() - done))
                            : ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // >0 bytes read; 0 EOF; -1 error; -2 nothing now (non-blocking).
  ssize_t read_some(char* buffer, size_t size) {
    if (ssl != nullptr) {
      const int n = SSL_read(ssl, buffer, static_cast<int>(size));
      if (n > 0) return n;
      const int e = SSL_get_error(ssl, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return -2;
      if (e == SSL_ERROR_ZERO_RETURN) return 0;
      ERR_clear_error();
      return -1;
    }
    const ssize_t n = ::recv(fd, buffer, size, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -2;
    return n;
  }
  // Feeds what was read; false on a protocol error.
  bool feed(std::string_view data) {
    while (!data.empty() && !complete) {
      http::FeedResult r = parser.feed(data);
      if (r.status == http::FeedResult::Status::Error) return false;
      if (r.status == http::FeedResult::Status::MessageComplete) complete = true;
      data.remove_prefix(std::min(r.consumed, data.size()));
      if (r.status == http::FeedResult::Status::NeedMore) break;
    }
    return true;
  }
};

struct EtcdClient::Response {
  int status = 0;
  std::string body;
};

EtcdClient::EtcdClient(EtcdOptions options) : options_(std::move(options)) {
  if (!options_.password_file.empty()) {
    std::ifstream in(options_.password_file);
    std::stringstream text;
    text << in.rdbuf();
    password_ = text.str();
    while (!password_.empty() && (password_.back() == '\n' || password_.back() == '\r')) password_.pop_back();
  }
}

EtcdClient::~EtcdClient() {
  watch_.reset();
  if (tls_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(tls_));
}

bool EtcdClient::connect(size_t index, Connection& connection, std::string& error) {
  Endpoint endpoint;
  if (!parse_endpoint(options_.endpoints[index], endpoint, error)) return false;
  connection.host_port = endpoint.host.find(':') != std::string::npos
                             ? "[" + endpoint.host + "]:" + endpoint.port
                             : endpoint.host + ":" + endpoint.port;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(endpoint.host.c_str(), endpoint.port.c_str(), &hints, &found); rc != 0) {
    error = "cannot resolve " + endpoint.host + ": " + gai_strerror(rc);
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  error = "cannot connect to " + connection.host_port;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    bool ok = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    if (!ok && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int so_error = 0;
      socklen_t len = sizeof so_error;
      // Connecting is bounded tighter than answering: an unreachable member
      // (blackholed, not refusing) holds the control thread this long.
      if (::poll(&p, 1, std::min(timeout_ms(), kConnectTimeoutMs)) == 1 &&
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0) {
        ok = true;
      } else {
        error += so_error != 0 ? std::string(" (") + std::strerror(so_error) + ")" : " (timed out)";
      }
    } else if (!ok) {
      error += std::string(" (") + std::strerror(errno) + ")";
    }
    if (!ok) {
      ::close(fd);
      continue;
    }
    // Blocking from here on, each read and write bounded by the timeout.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{static_cast<time_t>(timeout_ms() / 1000),
               static_cast<suseconds_t>((timeout_ms() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    // A member that vanishes without a FIN (power, partition) would leave a
    // watch silent forever: TCP keepalives end it within ~25 s.
    const int on = 1, idle_s = 10, interval_s = 5, probes = 3;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
    connection.fd = fd;
    break;
  }
  if (connection.fd < 0) return false;
  if (!endpoint.tls) return true;

  if (tls_ == nullptr) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    const bool ok =
        ctx != nullptr &&
        (options_.cacert.empty()
             ? SSL_CTX_set_default_verify_paths(ctx) == 1
             : SSL_CTX_load_verify_locations(ctx, options_.cacert.c_str(), nullptr) == 1) &&
        (options_.cert.empty() || SSL_CTX_use_certificate_chain_file(ctx, options_.cert.c_str()) == 1) &&
        (options_.key.empty() ||
         SSL_CTX_use_PrivateKey_file(ctx, options_.key.c_str(), SSL_FILETYPE_PEM) == 1);
    if (!ok) {
      error = "TLS setup (--etcd-cacert/--etcd-cert/--etcd-key): " + ssl_error_text();
      if (ctx != nullptr) SSL_CTX_free(ctx);
      return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    tls_ = ctx;
  }
  connection.ssl = SSL_new(static_cast<SSL_CTX*>(tls_));
  SSL_set_fd(connection.ssl, connection.fd);
  in6_addr ip6;
  in_addr ip4;
  if (inet_pton(AF_INET, endpoint.host.c_str(), &ip4) == 1 ||
      inet_pton(AF_INET6, endpoint.host.c_str(), &ip6) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(connection.ssl), endpoint.host.c_str());
  } else {
    SSL_set_tlsext_host_name(connection.ssl, endpoint.host.c_str());
    SSL_set1_host(connection.ssl, endpoint.host.c_str());
  }
  if (SSL_connect(connection.ssl) != 1) {
    error = "TLS with " + connection.host_port + ": " + ssl_error_text();
    return false;
  }
  return true;
}

std::string EtcdClient::request_head(size_t index, const std::string& path, size_t content_length,
                                     bool stream) const {
  Endpoint endpoint;
  std::string ignored;
  parse_endpoint(options_.endpoints[index], endpoint, ignored);
  std::string head =
      "POST " + path + " HTTP/1.1\r\nHost: " + endpoint.host + ":" + endpoint.port +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(content_length) +
      "\r\nUser-Agent: torii\r\n";
  if (!token_.empty()) head += "Authorization: " + token_ + "\r\n";
  // etcd cancels a watch whose member loses its leader (rpctypes.MetadataRequireLeaderKey).
  if (stream) head += "Grpc-Metadata-hasleader: true\r\n";
  head += stream ? "\r\n" : "Connection: close\r\n\r\n";
  return head;
}

bool EtcdClient::call_endpoint(size_t index, const std::string& path, const std::string& body,
                               Response& response, std::string& error) {
  Connection connection;
  if (!connect(index, connection, error)) return false;
  if (!connection.write_all(request_head(index, path, body.size(), false) + body)) {
    error = "cannot send to " + connection.host_port;
    return false;
  }
  char buffer[16384];
  while (!connection.complete) {
    const ssize_t n = connection.read_some(buffer, sizeof buffer);
    if (n == 0) {
      if (connection.parser.finish().status == http::FeedResult::Status::Error) break;
      connection.complete = true;
      break;
    }
    if (n < 0) break;
    if (!connection.feed(std::string_view(buffer, static_cast<size_t>(n)))) break;
  }
  if (!connection.complete) {
    error = connection.host_port + " did not answer (closed or timed out)";
    return false;
  }
  response.status = connection.reader.status;
  response.body = std::move(connection.reader.body);
  return true;
}

bool EtcdClient::authenticate(size_t index, std::string& error) {
  token_.clear();
  const std::string body = nlohmann::json{{"name", options_.user}, {"password", password_}}.dump();
  Response response;
  if (!call_endpoint(index, "/v3/auth/authenticate", body, response, error)) return false;
  nlohmann::json reply = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status != 200 || !reply.is_object() || !reply.contains("token")) {
    error = "authentication as '" + options_.user + "' failed: " +
            (reply.is_discarded()
                 ? "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 200)
                 : error_message(reply));
    return false;
  }
  token_ = reply["token"].get<std::string>();
  return true;
}

bool EtcdClient::call(const std::string& path, const nlohmann::json& body, nlohmann::json& reply,
                      EtcdError& error) {
  const std::string text = body.dump();
  std::string failures;
  for (size_t tried = 0; tried < options_.endpoints.size(); ++tried) {
    const size_t index = (current_ + tried) % options_.endpoints.size();
    std::string transport;
    if (!options_.user.empty() && token_.empty() && !authenticate(index, transport)) {
      if (transport.find("authentication as") == 0) {
        error = {false, transport};
        return false;
      }
      failures += (failures.empty() ? "" : "; ") + transport;
      continue;
    }
    Response response;
    bool answered = call_endpoint(index, path, text, response, transport);
    if (answered && response.status != 200 && !options_.user.empty()) {
      nlohmann::json e = nlohmann::json::parse(response.body, nullptr, false);
      if (auth_expired(error_message(e))) {
        if (!authenticate(index, transport)) {
          error = {false, transport};
          return false;
        }
        answered = call_endpoint(index, path, text, response, transport);
      }
    }
    if (!answered) {
      failures += (failures.empty() ? "" : "; ") + transport;
      continue;
    }
    reply = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status == 200 && !reply.is_discarded()) {
      current_ = index;
      return true;
    }
    const std::string message =
        reply.is_discarded() ? "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 200)
                             : error_message(reply);
    if (member_unavailable(response.status, message)) {
      failures += (failures.empty() ? "" : "; ") + options_.endpoints[index] + ": " + message;
      continue;
    }
    current_ = index;
    error = {false, options_.endpoints[index] + ": " + message};
    if (options_.user.empty() && (message.find("user name is empty") != std::string::npos ||
                                  message.find("permission denied") != std::string::npos))
      error.message += " (authentication is on in etcd: --etcd-user NAME --etcd-password-file PATH)";
    return false;
  }
  // The next call starts with the next endpoint.
  current_ = (current_ + 1) % options_.endpoints.size();
  error = {true, "etcd unreachable: " + failures};
  return false;
}

bool EtcdClient::range(std::string_view key, std::string_view range_end, int64_t revision, RangeResponse& out,
                       EtcdError& error) {
  nlohmann::json reply;
  if (!call("/v3/kv/range", range_request(key, range_end, revision), reply, error)) return false;
  if (!parse_range_response(reply, out)) {
    error = {false, "unexpected range answer: " + reply.dump().substr(0, 200)};
    return false;
  }
  return true;
}

bool EtcdClient::txn(const std::vector<TxnCompare>& compares, const std::vector<TxnOp>& success,
                     const std::vector<TxnOp>& failure, TxnResponse& out, EtcdError& error) {
  nlohmann::json reply;
  if (!call("/v3/kv/txn", txn_request(compares, success, failure), reply, error)) return false;
  if (!parse_txn_response(reply, out)) {
    error = {false, "unexpected txn answer: " + reply.dump().substr(0, 200)};
    return false;
  }
  return true;
}

bool EtcdClient::put(const std::string& key, const std::string& value, int64_t lease, EtcdError& error) {
  nlohmann::json request = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) request["lease"] = std::to_string(lease);
  nlohmann::json reply;
  return call("/v3/kv/put", request, reply, error);
}

bool EtcdClient::compact(int64_t revision, EtcdError& error) {
  nlohmann::json reply;
  return call("/v3/kv/compaction", {{"revision", std::to_string(revision)}, {"physical", true}}, reply,
              error);
}

bool EtcdClient::lease_grant(int64_t ttl_s, int64_t& id, EtcdError& error) {
  nlohmann::json reply;
  if (!call("/v3/lease/grant", {{"TTL", std::to_string(ttl_s)}}, reply, error)) return false;
  id = json_int(reply, "ID");
  if (id == 0) {
    error = {false, "lease grant: " + error_message(reply)};
    return false;
  }
  return true;
}

bool EtcdClient::lease_keepalive(int64_t id, int64_t& ttl_s, EtcdError& error) {
  nlohmann::json reply;
  if (!call("/v3/lease/keepalive", {{"ID", std::to_string(id)}}, reply, error)) return false;
  // A stream of one message: {"result": {"ID": ..., "TTL": ...}}.
  const nlohmann::json& result = reply.contains("result") ? reply["result"] : reply;
  ttl_s = json_int(result, "TTL");
  return true;
}

bool EtcdClient::lease_revoke(int64_t id, EtcdError& error) {
  nlohmann::json reply;
  return call("/v3/lease/revoke", {{"ID", std::to_string(id)}}, reply, error);
}

bool EtcdClient::start_watch(std::string_view key, std::string_view range_end, int64_t start_revision,
                             std::vector<WatchMessage>& first, EtcdError& error) {
  stop_watch();
  first.clear();
  const std::string body = watch_create_request(key, range_end, start_revision).dump();
  std::string failures;
  bool renewed = false;  // the token, once (it expired since the last request)
  for (size_t tried = 0; tried < options_.endpoints.size(); ++tried) {
    const size_t index = (current_ + tried) % options_.endpoints.size();
    std::string transport;
    if (!options_.user.empty() && token_.empty() && !authenticate(index, transport)) {
      failures += (failures.empty() ? "" : "; ") + transport;
      continue;
    }
    auto connection = std::make_unique<Connection>();
    if (!connect(index, *connection, transport) ||
        !connection->write_all(request_head(index, "/v3/watch", body.size(), true) + body)) {
      failures += (failures.empty() ? "" : "; ") + (transport.empty() ? "cannot send" : transport);
      continue;
    }
    // Blocking (bounded by the timeout) until etcd confirms the watch.
    watch_ = std::move(connection);
    std::string read_error;
    bool confirmed = false;
    for (int rounds = 0; rounds < 64 && !confirmed; ++rounds) {
      std::vector<WatchMessage> messages;
      if (!read_watch(messages, read_error)) break;
      for (WatchMessage& m : messages) {
        confirmed = confirmed || m.created || m.canceled || !m.error.empty();
        first.push_back(std::move(m));
      }
    }
    if (confirmed && watch_->reader.status == 200) {
      current_ = index;
      // From now on read only when poll() says so.
      ::fcntl(watch_->fd, F_SETFL, ::fcntl(watch_->fd, F_GETFL) | O_NONBLOCK);
      for (const WatchMessage& m : first) {
        if (!m.error.empty() && member_unavailable(0, m.error)) confirmed = false;
      }
      if (confirmed) return true;
    }
    std::string why = read_error.empty() ? "the watch was not confirmed" : read_error;
    for (const WatchMessage& m : first) {
      if (!m.error.empty()) why = m.error;
    }
    stop_watch();
    first.clear();
    if (!options_.user.empty() && !renewed && auth_expired(why)) {
      renewed = true;
      token_.clear();
      --tried;  // the same endpoint again, with a new token
      continue;
    }
    failures += (failures.empty() ? "" : "; ") + options_.endpoints[index] + ": " + why;
  }
  current_ = (current_ + 1) % options_.endpoints.size();
  error = {true, "etcd watch: " + failures};
  return false;
}

int EtcdClient::watch_fd() const { return watch_ ? watch_->fd : -1; }

void EtcdClient::stop_watch() { watch_.reset(); }

bool EtcdClient::read_watch(std::vector<WatchMessage>& out, std::string& error) {
  if (!watch_) {
    error = "no watch";
    return false;
  }
  Connection& c = *watch_;
  char buffer[16384];
  bool ended = false;
  for (;;) {
    const bool blocking = (::fcntl(c.fd, F_GETFL) & O_NONBLOCK) == 0;
    const ssize_t n = c.read_some(buffer, sizeof buffer);
    if (n == -2 && !blocking) break;
    if (n == -2) {
      error = "etcd did not answer the watch request in time";
      ended = true;
      break;
    }
    if (n <= 0) {
      error = n == 0 ? "etcd closed the watch stream" : "watch stream read error (or timed out)";
      ended = true;
      break;
    }
    if (!c.feed(std::string_view(buffer, static_cast<size_t>(n)))) {
      error = "watch stream: " + c.parser.error_reason();
      ended = true;
      break;
    }
    if (c.complete) {
      error = "etcd ended the watch stream (HTTP " + std::to_string(c.reader.status) + ")";
      ended = true;
      break;
    }
    // Blocking (start_watch): one read is enough to make progress.
    if (blocking && (c.ssl == nullptr || SSL_pending(c.ssl) == 0)) break;
  }
  for (std::string& text : take_json_objects(c.reader.body)) {
    WatchMessage message;
    if (parse_watch_message(nlohmann::json::parse(text, nullptr, false), message))
      out.push_back(std::move(message));
  }
  return !ended;
}

}  // namespace torii::sources
