#include "net/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace torii::net {

namespace {

// Index of the TlsContext* in each SSL's ex_data, for the verify callback.
int context_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Index of the TlsSession* in each SSL's ex_data, for the SNI callback.
int session_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// "certificate verify failed" -> "CERTIFICATE_VERIFY_FAILED", as BoringSSL
// (and so Envoy) spells reasons.
std::string upper_reason(const char* reason) {
  std::string out = reason == nullptr ? "UNKNOWN" : reason;
  for (char& c : out) c = c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Envoy's format of the error queue: TLS_error:|code:lib:func:REASON:TLS_error_end
std::string drain_error_queue() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    const char* lib = ERR_lib_error_string(code);
    out += "TLS_error:|" + std::to_string(code) + ":" + (lib ? lib : "unknown") +
           ":OPENSSL_internal:" + upper_reason(ERR_reason_error_string(code)) + ":TLS_error_end";
  }
  return out;
}

std::string openssl_error(const std::string& what) {
  std::string queue = drain_error_queue();
  return what + (queue.empty() ? "" : ": " + queue);
}

bool dns_name_matches(std::string_view pattern, std::string_view name) {
  auto lower_eq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
        return false;
      }
    }
    return true;
  };
  if (pattern.starts_with("*.")) {
    // A wildcard covers exactly one label (RFC 6125 §6.4.3, as Envoy).
    const size_t dot = name.find('.');
    return dot != std::string_view::npos && dot > 0 && lower_eq(pattern.substr(1), name.substr(dot));
  }
  return lower_eq(pattern, name);
}

// True if a SAN of `cert` equals one of `wanted` (DNS with wildcards in the
// certificate, URI and IP exactly), Envoy's match_typed_subject_alt_names.
bool san_matches(X509* cert, const std::vector<std::string>& wanted) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    std::string value;
    if (n->type == GEN_DNS || n->type == GEN_URI) {
      const ASN1_STRING* s = n->type == GEN_DNS ? n->d.dNSName : n->d.uniformResourceIdentifier;
      value.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    } else if (n->type == GEN_IPADD && n->d.iPAddress->length == 4) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, n->d.iPAddress->data, text, sizeof text);
      value = text;
    } else {
      continue;
    }
    for (const auto& w : wanted) {
      if (n->type == GEN_DNS ? dns_name_matches(value, w) : value == w) {
        found = true;
        break;
      }
    }
  }
  GENERAL_NAMES_free(names);
  return found;
}

int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  if (!preverify_ok) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* context = static_cast<const TlsContext*>(SSL_get_ex_data(ssl, context_index()));
  if (context == nullptr) return 1;
  std::vector<std::string> wanted = context->subject_alt_names();
  if (wanted.empty() && context->verify_sni()) {
    const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (sni != nullptr && *sni != '\0') wanted.emplace_back(sni);
  }
  if (wanted.empty()) return 1;
  if (san_matches(X509_STORE_CTX_get_current_cert(store), wanted)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
  return 0;
}

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string out;
  for (const auto& p : protocols) {
    out += static_cast<char>(p.size());
    out += p;
  }
  return out;
}

bool load_chain_and_key(SSL_CTX* ctx, const std::string& cert, const std::string& key, std::string& error) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    error = openssl_error("cannot load certificate chain " + cert);
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = openssl_error("cannot load private key " + key);
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = openssl_error("private key " + key + " does not match certificate " + cert);
    return false;
  }
  return true;
}

// The same from PEM text (a Kubernetes Secret's tls.crt / tls.key).
bool load_chain_and_key_pem(SSL_CTX* ctx, const std::string& cert, const std::string& key,
                            std::string& error) {
  BIO* bio = BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size()));
  X509* leaf = PEM_read_bio_X509_AUX(bio, nullptr, nullptr, nullptr);
  bool ok = leaf != nullptr && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  SSL_CTX_clear_chain_certs(ctx);
  while (ok) {
    X509* chain = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (chain == nullptr) break;
    if (SSL_CTX_add0_chain_cert(ctx, chain) != 1) {
      X509_free(chain);
      ok = false;
    }
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the chain reads as an error
  if (!ok) {
    error = openssl_error("cannot load the certificate (tls.crt)");
    return false;
  }
  bio = BIO_new_mem_buf(key.data(), static_cast<int>(key.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ok = pkey != nullptr && SSL_CTX_use_PrivateKey(ctx, pkey) == 1;
  EVP_PKEY_free(pkey);
  if (!ok || SSL_CTX_check_private_key(ctx) != 1) {
    error = openssl_error("cannot load the private key (tls.key) or it does not match the certificate");
    return false;
  }
  return true;
}

bool load_ca_pem(SSL_CTX* ctx, const std::string& pem, std::string& error) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  int count = 0;
  while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, ca);
    sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca)));
    X509_free(ca);
    ++count;
  }
  BIO_free(bio);
  ERR_clear_error();
  SSL_CTX_set_client_CA_list(ctx, names);
  if (count == 0) {
    error = "no CA certificate in the CA bundle (ca.crt)";
    return false;
  }
  return true;
}

void common_setup(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);  // Envoy's default minimum
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // One read() per batch of records instead of two per record (its 5-byte
  // header, then its body): HTTPS keep-alive made 3.2 reads a request
  // (issue 17).
  SSL_CTX_set_read_ahead(ctx, 1);
}

}  // namespace

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::shared_ptr<const TlsContext> TlsContext::client(const TlsClientConfig& config, std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = openssl_error("SSL_CTX_new");
    return nullptr;
  }
  std::shared_ptr<TlsContext> out(new TlsContext(ctx, true));
  common_setup(ctx);
  if (!config.insecure_skip_verify) {
    if (!config.ca_pem.empty()) {
      if (!load_ca_pem(ctx, config.ca_pem, error)) return nullptr;
    }
    const bool loaded =
        !config.ca_pem.empty() ||
        (config.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                : SSL_CTX_load_verify_locations(ctx, config.ca_file.c_str(), nullptr) == 1);
    if (!loaded) {
      error = openssl_error("cannot load CA certificates " +
                            (config.ca_file.empty() ? std::string("(system store)") : config.ca_file));
      return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &verify_callback);
    out->verify_ = true;
    out->sans_ = config.subject_alt_names;
    out->verify_sni_ = config.verify_sni;
  }
  if (!config.cert_pem.empty()) {
    if (!load_chain_and_key_pem(ctx, config.cert_pem, config.key_pem, error)) return nullptr;
  } else if (!config.cert_file.empty() &&
             !load_chain_and_key(ctx, config.cert_file, config.key_file, error)) {
    return nullptr;
  }
  if (!config.alpn.empty()) {
    const std::string wire = alpn_wire(config.alpn);
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  return out;
}

std::shared_ptr<const TlsContext> TlsContext::server(const TlsServerConfig& config, std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = openssl_error("SSL_CTX_new");
    return nullptr;
  }
  std::shared_ptr<TlsContext> out(new TlsContext(ctx, false));
  common_setup(ctx);
  SSL_CTX_set_tlsext_servername_callback(ctx, &TlsSession::on_server_name);
  if (!config.cert_pem.empty()) {
    if (!load_chain_and_key_pem(ctx, config.cert_pem, config.key_pem, error)) return nullptr;
  } else if (!load_chain_and_key(ctx, config.cert_file, config.key_file, error)) {
    return nullptr;
  }
  if (!config.ca_pem.empty()) {
    if (!load_ca_pem(ctx, config.ca_pem, error)) return nullptr;
  } else if (!config.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, config.ca_file.c_str(), nullptr) != 1) {
      error = openssl_error("cannot load CA certificates " + config.ca_file);
      return nullptr;
    }
  }
  if (!config.ca_pem.empty() || !config.ca_file.empty()) {
    int mode = SSL_VERIFY_PEER;
    if (config.require_client_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
    out->verify_ = true;
  }
  if (!config.alpn.empty()) {
    // Offer the first protocol of ours the client also offers.
    auto* wire = new std::string(alpn_wire(config.alpn));  // lives as long as the context
    SSL_CTX_set_alpn_select_cb(
        ctx,
        [](SSL*, const unsigned char** out_proto, unsigned char* out_len, const unsigned char* in,
           unsigned in_len, void* arg) {
          auto* ours = static_cast<std::string*>(arg);
          unsigned char* selected = nullptr;
          if (SSL_select_next_proto(&selected, out_len, reinterpret_cast<const unsigned char*>(ours->data()),
                                    static_cast<unsigned>(ours->size()), in,
                                    in_len) != OPENSSL_NPN_NEGOTIATED) {
            return SSL_TLSEXT_ERR_NOACK;
          }
          *out_proto = selected;
          return SSL_TLSEXT_ERR_OK;
        },
        wire);
    out->alpn_storage_.reset(wire);
  }
  return out;
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, const std::string& sni)
    : context_(std::move(context)), ssl_(SSL_new(context_->native())) {
  SSL_set_ex_data(ssl_, context_index(), const_cast<TlsContext*>(context_.get()));
  SSL_set_ex_data(ssl_, session_index(), this);
  if (context_->is_client()) {
    SSL_set_connect_state(ssl_);
    server_name_ = sni;
    if (!sni.empty()) SSL_set_tlsext_host_name(ssl_, sni.c_str());
  } else {
    SSL_set_accept_state(ssl_);
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

// OpenSSL (1.1.1+) calls this for every ClientHello, with or without SNI.
int TlsSession::on_server_name(SSL* ssl, int* alert, void* /*arg*/) {
  auto* self = static_cast<TlsSession*>(SSL_get_ex_data(ssl, session_index()));
  if (self == nullptr) return SSL_TLSEXT_ERR_OK;
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  self->server_name_ = name == nullptr ? "" : name;
  if (!self->selector_) return SSL_TLSEXT_ERR_OK;
  self->selected_ = self->selector_(self->server_name_);
  if (!self->selected_) {
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (self->selected_.get() != self->context_.get()) {
    SSL_CTX* chosen = self->selected_->native();
    SSL_set_SSL_CTX(ssl, chosen);  // certificate and key
    // SSL_set_SSL_CTX does not carry verification over: client-certificate
    // checks (MUTUAL) follow the chosen server's settings.
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(chosen), SSL_CTX_get_verify_callback(chosen));
    SSL_set_client_CA_list(ssl, SSL_dup_CA_list(SSL_CTX_get_client_CA_list(chosen)));
    SSL_set_ex_data(ssl, context_index(), const_cast<TlsContext*>(self->selected_.get()));
  }
  return SSL_TLSEXT_ERR_OK;
}

void TlsSession::attach(int fd) {
  SSL_set_fd(ssl_, fd);
  BIO* socket = SSL_get_rbio(ssl_);
  BIO_set_callback_ex(socket, &TlsSession::on_socket_io);
  BIO_set_callback_arg(socket, reinterpret_cast<char*>(this));
}

long TlsSession::on_socket_io(BIO* bio, int oper, const char* /*argp*/, size_t len, int /*argi*/,
                              long /*argl*/, int ret, size_t* processed) {
  if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
    auto* self = reinterpret_cast<TlsSession*>(BIO_get_callback_arg(bio));
    self->socket_drained_ = ret <= 0 || processed == nullptr || *processed < len;
  }
  return ret;
}

TlsSession::Result TlsSession::handshake(int fd) {
  if (done_) return Result::kDone;
  if (SSL_get_fd(ssl_) != fd) attach(fd);
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    done_ = true;
    return Result::kDone;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Result::kWantIo;
  record_failure(err);
  return Result::kFailed;
}

ssize_t TlsSession::read_into(int fd, Buffer& input, size_t max_bytes) {
  (void)fd;
  char chunk[16 * 1024];
  size_t total = 0;
  // Only a socket read made in this call says the socket is empty now: a
  // record served from OpenSSL's read-ahead, with a short read from an
  // earlier event, must not stop the loop before bytes that came since
  // (their edge may already be spent, e.g. while reading was disabled).
  socket_drained_ = false;
  while (total < max_bytes) {
    ERR_clear_error();
    const int want = static_cast<int>(std::min(sizeof chunk, max_bytes - total));
    const int n = SSL_read(ssl_, chunk, want);
    if (n > 0) {
      input.append(std::string_view(chunk, static_cast<size_t>(n)));
      total += static_cast<size_t>(n);
      // The socket is empty and OpenSSL holds nothing more: edge-triggered
      // epoll reports the next bytes, so stop without the read() that would
      // only say EAGAIN (issue 17: one syscall a request on HTTPS keep-alive).
      if (socket_drained_ && SSL_has_pending(ssl_) == 0) break;
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (total > 0 && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)) break;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      errno = EAGAIN;
      return -1;
    }
    if (total > 0) break;  // report the data now, the EOF or error on the next read
    if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)) {
      return 0;  // close_notify, or the peer's FIN without one
    }
    if (err == SSL_ERROR_SYSCALL && errno != 0) return -1;  // errno from the socket
    record_failure(err);
    errno = EPROTO;
    return -1;
  }
  return static_cast<ssize_t>(total);
}

ssize_t TlsSession::write_from(int fd, Buffer& output) {
  (void)fd;
  size_t total = 0;
  while (!output.empty()) {
    const std::string_view front = output.front();
    ERR_clear_error();
    const int n = SSL_write(ssl_, front.data(), static_cast<int>(std::min<size_t>(front.size(), 1 << 30)));
    if (n > 0) {
      output.drain(static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (total > 0) return static_cast<ssize_t>(total);
      errno = EAGAIN;
      return -1;
    }
    if (err == SSL_ERROR_SYSCALL && errno != 0) return -1;
    record_failure(err);
    errno = EPROTO;
    return -1;
  }
  return static_cast<ssize_t>(total);
}

void TlsSession::shutdown(int fd) {
  if (!done_) return;
  if (SSL_get_fd(ssl_) != fd) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // one close_notify; we do not wait for the peer's
}

std::string TlsSession::negotiated_alpn() const {
  const unsigned char* data = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return data == nullptr ? "" : std::string(reinterpret_cast<const char*>(data), len);
}

void TlsSession::record_failure(int ssl_error) {
  std::string queue = drain_error_queue();
  if (queue.empty()) {
    if (ssl_error == SSL_ERROR_SYSCALL) {
      queue = errno != 0 ? std::string("TLS_error:|") + std::strerror(errno) + ":TLS_error_end"
                         : "TLS_error:|connection closed during the handshake:TLS_error_end";
    } else {
      queue = "TLS_error:|SSL_ERROR " + std::to_string(ssl_error) + ":TLS_error_end";
    }
  }
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK && context_->verify_peer()) {
    queue += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  }
  failure_ = queue;
}

}  // namespace torii::net
