// Reads the SNI out of a TLS ClientHello without terminating anything: what
// Envoy's tls_inspector listener filter does before a TLS passthrough
// listener picks its filter chain by server name.
//
// The input is whatever the client sent so far (bytes are peeked, never
// consumed, so they reach the upstream untouched). The ClientHello may span
// several TLS records and several reads; parse again with more bytes while
// the answer is kNeedMore.
//
// Pure function, no allocation but the returned name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace torii::net {

struct ClientHelloInfo {
  enum class Status {
    kNeedMore,  // a prefix of a ClientHello: wait for more bytes
    kDone,      // a complete ClientHello; server_name set if it had SNI
    kNotTls,    // not a TLS handshake (plain TCP, SSLv2, garbage)
    kTooLarge,  // the ClientHello is longer than the limit
  };
  Status status = Status::kNeedMore;
  std::string server_name;  // host_name of the server_name extension, lower-cased; empty if none
};

// Envoy tls_inspector's default max_client_hello_size is 64 KiB.
constexpr size_t kMaxClientHelloBytes = 64 * 1024;

ClientHelloInfo parse_client_hello(std::string_view bytes, size_t max_bytes = kMaxClientHelloBytes);

}  // namespace torii::net
