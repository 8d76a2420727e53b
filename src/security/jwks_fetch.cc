#include "security/jwks_fetch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "http/http_url.h"

namespace torii::security {

namespace {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string authority;  // host[:port] as written: the Host header
  std::string path;
};

bool parse_url(const std::string& url, Url& out, std::string& error) {
  http::HttpUrl parsed;
  if (!http::parse_http_url(url, parsed)) {
    error = "not an http(s)://HOST[:PORT]/PATH URL";
    return false;
  }
  out.tls = parsed.tls;
  out.host = std::move(parsed.host);
  out.port = std::to_string(parsed.port);
  out.authority = std::move(parsed.authority);
  out.path = parsed.path.empty() ? "/" : std::move(parsed.path);
  return true;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool connect_with_timeout(const Url& url, uint32_t timeout_ms, Fd& out, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0) {
    error = std::string("cannot resolve ") + url.host + ": " + gai_strerror(rc);
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);
  error = "cannot connect to " + url.host + ":" + url.port;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd fd;
    fd.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd.fd < 0) continue;
    if (::connect(fd.fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) continue;
      pollfd p{fd.fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout_ms)) != 1) {
        error += " (timed out)";
        continue;
      }
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(fd.fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error != 0) {
        error += std::string(" (") + std::strerror(so_error) + ")";
        continue;
      }
    }
    // Blocking from here on, each read and write bounded by the timeout.
    ::fcntl(fd.fd, F_SETFL, ::fcntl(fd.fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
    ::setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    out.fd = fd.fd;
    fd.fd = -1;
    return true;
  }
  return false;
}

// The body of an HTTP/1.1 response read to its end: Content-Length,
// chunked, or up to the close.
bool parse_response(const std::string& raw, std::string& body, std::string& error) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || !raw.starts_with("HTTP/1.")) {
    error = "not an HTTP response";
    return false;
  }
  const std::string head = raw.substr(0, head_end);
  const size_t sp = head.find(' ');
  const std::string status = sp == std::string::npos ? "" : head.substr(sp + 1, 3);
  if (status != "200") {
    error = "HTTP status " + status;
    return false;
  }
  std::string lower_head = head;
  std::transform(lower_head.begin(), lower_head.end(), lower_head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string rest = raw.substr(head_end + 4);
  if (lower_head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    body.clear();
    size_t pos = 0;
    while (true) {
      const size_t line_end = rest.find("\r\n", pos);
      if (line_end == std::string::npos) break;
      const size_t size = std::strtoul(rest.substr(pos, line_end - pos).c_str(), nullptr, 16);
      if (size == 0) return true;
      if (line_end + 2 + size > rest.size()) break;
      body.append(rest, line_end + 2, size);
      pos = line_end + 2 + size + 2;
    }
    error = "truncated chunked response";
    return false;
  }
  const size_t cl = lower_head.find("\r\ncontent-length:");
  if (cl != std::string::npos) {
    const size_t length = std::strtoul(lower_head.c_str() + cl + 17, nullptr, 10);
    if (rest.size() < length) {
      error = "truncated response";
      return false;
    }
    rest.resize(length);
  }
  body = std::move(rest);
  return true;
}

std::string ssl_error_text() {
  const unsigned long e = ERR_get_error();
  char buffer[256] = {0};
  if (e != 0) ERR_error_string_n(e, buffer, sizeof buffer);
  return e != 0 ? buffer : "TLS handshake failed";
}

}  // namespace

bool fetch_url(const std::string& url_text, const JwksFetchOptions& options, std::string& body,
               std::string& error) {
  Url url;
  if (!parse_url(url_text, url, error)) return false;
  Fd fd;
  if (!connect_with_timeout(url, options.timeout_ms, fd, error)) return false;
  const std::string request =
      "GET " + url.path + " HTTP/1.1\r\nHost: " + url.authority +
      "\r\nAccept: application/json\r\nUser-Agent: torii\r\nConnection: close\r\n\r\n";
  std::string raw;
  char buffer[16384];
  if (url.tls) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    if (!ctx || SSL_CTX_set_default_verify_paths(ctx.get()) != 1 ||
        (!options.ca_file.empty() &&
         SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != 1)) {
      error = "TLS setup failed: " + ssl_error_text();
      return false;
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
    SSL_set_fd(ssl.get(), fd.fd);
    in6_addr ip6;
    in_addr ip4;
    const bool is_ip =
        inet_pton(AF_INET, url.host.c_str(), &ip4) == 1 || inet_pton(AF_INET6, url.host.c_str(), &ip6) == 1;
    if (is_ip) {
      // An address is checked against the certificate's IP SANs; no SNI.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl.get(), url.host.c_str());
      SSL_set1_host(ssl.get(), url.host.c_str());
    }
    if (SSL_connect(ssl.get()) != 1) {
      error = "TLS with " + url.host + ": " + ssl_error_text();
      return false;
    }
    if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) <= 0) {
      error = "cannot send the request";
      return false;
    }
    for (int n; (n = SSL_read(ssl.get(), buffer, sizeof buffer)) > 0;) {
      raw.append(buffer, static_cast<size_t>(n));
      if (raw.size() > options.max_bytes + 16384) break;
    }
  } else {
    if (::send(fd.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      error = "cannot send the request";
      return false;
    }
    for (ssize_t n; (n = ::recv(fd.fd, buffer, sizeof buffer, 0)) > 0;) {
      raw.append(buffer, static_cast<size_t>(n));
      if (raw.size() > options.max_bytes + 16384) break;
    }
    if (raw.empty()) {
      error = "no response (timed out or closed)";
      return false;
    }
  }
  if (!parse_response(raw, body, error)) return false;
  if (body.size() > options.max_bytes) {
    error = "response larger than " + std::to_string(options.max_bytes) + " bytes";
    return false;
  }
  return true;
}

RemoteJwks& RemoteJwks::instance() {
  static RemoteJwks cache;
  return cache;
}

bool RemoteJwks::fetch(const std::string& uri, Entry& entry, uint64_t now_ms) {
  std::string body;
  std::string error;
  if (fetch_url(uri, options_, body, error)) {
    const bool changed = entry.document != body;
    entry.document = std::move(body);
    entry.error.clear();
    entry.failures = 0;
    entry.next_ms = now_ms + options_.refresh_ms;
    return changed;
  }
  entry.error = std::move(error);
  ++entry.failures;
  // Back-off: 1 s, 2 s, 4 s ... capped at 60 s (and at the refresh interval).
  const uint64_t backoff =
      std::min<uint64_t>({1000ull << std::min(entry.failures - 1, 6u), 60000, options_.refresh_ms});
  entry.next_ms = now_ms + backoff;
  return false;
}

std::optional<std::string> RemoteJwks::get(const std::string& uri, std::string& error, uint64_t now_ms) {
  used_.insert(uri);
  auto [it, inserted] = entries_.try_emplace(uri);
  if (inserted) fetch(uri, it->second, now_ms);
  if (!it->second.error.empty()) error = it->second.error;
  return it->second.document;
}

bool RemoteJwks::refresh(uint64_t now_ms) {
  std::erase_if(entries_, [&](const auto& e) { return !used_.contains(e.first); });
  bool changed = false;
  for (auto& [uri, entry] : entries_) {
    if (now_ms >= entry.next_ms) changed = fetch(uri, entry, now_ms) || changed;
  }
  return changed;
}

}  // namespace torii::security
