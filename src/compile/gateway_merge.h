// Gateway selection and server merging (istiod mergeGateways, model/gateway.go;
// ISTIO_SEMANTICS §0.1, §0.2, §2.2).
//
// Every Gateway whose selector is a subset of this process's labels applies,
// from any namespace. Their servers are grouped by (bind, listen port); the
// plaintext HTTP-family servers of one group share one route table. The first
// server on a (bind, port) decides its protocol family (oldest Gateway first);
// a later server of another family there is dropped (canMergeProtocols).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compile/compiler.h"
#include "compile/diagnostic_sink.h"
#include "config/resources.h"

namespace torii::compile {

struct MergedServer {
  const config::Gateway* gateway = nullptr;
  std::string gateway_name;  // namespace/name, as VirtualServices reference it
  const config::Server* server = nullptr;
  size_t server_index = 0;         // in gateway->servers, for diagnostics
  std::vector<std::string> hosts;  // sanitised: `./h` -> `ns/h`, `*/h` -> `h`
};

struct MergedListener {
  std::string name;  // "<bind>_<listen port>"; "<bind>_0_<Gateway port>" for listen port 0
  std::string bind;
  uint32_t listen_port = 0;  // 0: the kernel picks one when it is bound (--port-map GW=0)
  // Gateway port.number of the first server. Servers whose gateway ports map
  // to the same listen port share the listener but keep their own number for
  // `match.port` (server->port.number).
  uint32_t gateway_port = 0;
  std::vector<MergedServer> servers;  // one protocol family, merge order
  // HTTPS servers with tls mode SIMPLE or MUTUAL: TLS is terminated here and
  // each server keeps its own route table (Istio's `https.<port>.<name>...`).
  bool tls_terminated = false;
  // Layer-4 servers (is_l4_server) on this (bind, port), merge order. They
  // may share the port with terminated HTTPS servers (picked by SNI), not
  // with plaintext HTTP ones.
  std::vector<MergedServer> l4_servers;
};

// True for HTTP, HTTP2, GRPC, GRPC-WEB (case-insensitive).
bool is_plaintext_http(std::string_view protocol);
// True for an HTTPS server whose TLS Torii terminates (mode SIMPLE or MUTUAL).
bool is_terminated_https(const config::Server& server);
// A TLS or HTTPS server with tls.mode PASSTHROUGH: routed by SNI, never terminated.
bool is_tls_passthrough(const config::Server& server);
// An opaque TCP server (TCP, MONGO, MYSQL, REDIS; no tls block): tcp routes.
bool is_opaque_tcp(const config::Server& server);
// A TLS server (protocol TLS, not HTTPS) with mode SIMPLE or MUTUAL: Torii
// terminates TLS and relays the plaintext by tcp routes.
bool is_terminated_tls_tcp(const config::Server& server);
// Servers Torii routes at layer 4: TLS passthrough, TLS-terminated TCP or opaque TCP.
bool is_l4_server(const config::Server& server);

// The Gateways that configure this process, oldest first.
std::vector<const config::Gateway*> select_gateways(const config::ResourceSet& resources,
                                                    const GatewayIdentity& identity);

// Listeners sorted by (listen port, bind). Servers Torii does not serve yet
// (AUTO_PASSTHROUGH, ISTIO_MUTUAL, TLS-terminated TCP, ...) and servers that lose a protocol
// conflict are dropped with a warning naming `spec.servers[i]`.
std::vector<MergedListener> merge_gateways(const std::vector<const config::Gateway*>& gateways,
                                           const GatewayIdentity& identity, DiagnosticSink& diagnostics);

}  // namespace torii::compile
