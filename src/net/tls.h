// TLS for net::Connection, with OpenSSL: contexts built once per config
// (compile time, control thread) and shared read-only by workers; one
// TlsSession per connection, driven by Connection on the socket's fd.
//
// Client side follows Envoy's UpstreamTlsContext as Istio fills it from a
// DestinationRule `tls` block: chain verified against `ca_file` or the system
// store, the leaf's SAN checked against `subject_alt_names` inside the
// handshake (so a mismatch fails it and no request byte is sent), SNI,
// optional client certificate (MUTUAL), `insecure_skip_verify`.
// Server side (Gateway servers with tls): certificate and key, optional
// client-certificate verification.
//
// Failures read like Envoy's transport failure reasons:
// "TLS_error:|<code>:<library>:<function>:<REASON>:TLS_error_end".
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/buffer.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace torii::net {

struct TlsClientConfig {
  std::string ca_file;  // PEM bundle; empty: the system store
  std::string cert_file;
  std::string key_file;  // with cert_file: MUTUAL
  // PEM text instead of files (a Kubernetes Secret named by the
  // DestinationRule's credentialName); used when non-empty.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  std::vector<std::string> subject_alt_names;  // any may match; empty: no SAN check
  // With no subject_alt_names: the certificate must carry the session's SNI
  // (Istio's auto_san_validation, with auto_sni).
  bool verify_sni = false;
  bool insecure_skip_verify = false;
  std::vector<std::string> alpn;  // e.g. {"http/1.1"}
};

struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // non-empty: verify client certificates
  // PEM text instead of files (Kubernetes Secrets); used when non-empty.
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;
  bool require_client_certificate = false;
  std::vector<std::string> alpn;
};

class TlsSession;

class TlsContext {
 public:
  // nullptr with `error` set (file name and OpenSSL's reason) on failure.
  static std::shared_ptr<const TlsContext> client(const TlsClientConfig& config, std::string& error);
  static std::shared_ptr<const TlsContext> server(const TlsServerConfig& config, std::string& error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  bool is_client() const { return client_; }
  const std::vector<std::string>& subject_alt_names() const { return sans_; }
  bool verify_sni() const { return verify_sni_; }
  bool verify_peer() const { return verify_; }

 private:
  friend class TlsSession;
  TlsContext(SSL_CTX* ctx, bool client) : ctx_(ctx), client_(client) {}
  SSL_CTX* ctx_;
  bool client_;
  bool verify_ = false;
  bool verify_sni_ = false;
  std::vector<std::string> sans_;
  std::unique_ptr<std::string> alpn_storage_;  // the server's ALPN list, for its select callback
};

class TlsSession {
 public:
  // Server side: picks the context for the SNI the client sent ("" when it
  // sent none); nullptr refuses the handshake (unrecognized_name alert), as
  // Envoy does when no filter chain matches.
  using SniSelector = std::function<std::shared_ptr<const TlsContext>(std::string_view sni)>;

  // `sni` is sent by clients (empty: none).
  TlsSession(std::shared_ptr<const TlsContext> context, const std::string& sni);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Result { kDone, kWantIo, kFailed };
  // Drives the handshake on `fd`; kWantIo: call again on the next event.
  Result handshake(int fd);
  // Server sessions: call before the handshake starts.
  void set_sni_selector(SniSelector selector) { selector_ = std::move(selector); }
  // The SNI: sent (client) or received (server, once the handshake started).
  const std::string& server_name() const { return server_name_; }
  bool handshake_done() const { return done_; }

  // Like Buffer::read_from / write_to, over TLS: bytes moved, 0 on EOF
  // (close_notify or the peer's FIN), -1 with errno EAGAIN (wait for the
  // socket) or EPROTO (TLS failure; see failure_reason()).
  ssize_t read_into(int fd, Buffer& input, size_t max_bytes);
  ssize_t write_from(int fd, Buffer& output);
  // Sends close_notify (best effort, never blocks).
  void shutdown(int fd);

  const std::string& failure_reason() const { return failure_; }
  std::string negotiated_alpn() const;

 private:
  void record_failure(int ssl_error);
  static int on_server_name(SSL* ssl, int* alert, void* arg);
  // Watches the socket BIO's reads (BIO_set_callback_ex) for socket_drained_.
  static long on_socket_io(BIO* bio, int oper, const char* argp, size_t len, int argi, long argl, int ret,
                           size_t* processed);
  void attach(int fd);

  friend class TlsContext;

  std::shared_ptr<const TlsContext> context_;
  SniSelector selector_;
  std::string server_name_;
  std::shared_ptr<const TlsContext> selected_;  // keeps the SNI-chosen context alive
  SSL* ssl_ = nullptr;
  bool done_ = false;
  // OpenSSL's last read of the socket got less than it asked for (or
  // nothing): the socket is empty, so an edge-triggered loop may stop
  // reading without a read() that only says EAGAIN.
  bool socket_drained_ = false;
  std::string failure_;
};

}  // namespace torii::net
