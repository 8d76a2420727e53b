// The TLS side of an HTTPS Gateway server that Torii terminates (tls.mode
// SIMPLE or MUTUAL): its server context and the SNI names it answers for
// (istiod's buildGatewayListenerTLSContext and getSNIHostsForServer).
//
// Certificates come from `credentialName`, a Kubernetes Secret as Istio
// reads it (in the gateway's own namespace, else the Gateway's): type
// kubernetes.io/tls keys tls.crt / tls.key / ca.crt, or generic keys cert /
// key / cacert; for MUTUAL the CA may also be in a Secret `<name>-cacert`.
// Or from `serverCertificate` / `privateKey` / `caCertificates` files; a
// relative path is taken from the directory of the manifest that names it,
// so an example directory can carry its own certificates. This is the one
// place where compiling reads files other than manifests. A certificate
// that cannot be loaded drops its server with a warning, and the rest of the
// listener serves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compile/diagnostic_sink.h"
#include "compile/gateway_merge.h"
#include "net/tls.h"

namespace torii::compile {

// nullptr (with a warning) when the server's certificates cannot be used.
std::shared_ptr<const net::TlsContext> build_server_tls(const MergedServer& server,
                                                        const config::ObjectList<config::Secret>& secrets,
                                                        const std::string& gateway_namespace,
                                                        DiagnosticSink& diagnostics);

// The server's hosts without their namespace part; empty if one is `*`
// (then the chain takes any SNI, or none).
std::vector<std::string> sni_names(const MergedServer& server);

}  // namespace torii::compile
