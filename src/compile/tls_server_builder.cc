#include "compile/tls_server_builder.h"

#include <filesystem>

#include "compile/host_name.h"

namespace torii::compile {

namespace {

std::string resolve_path(const std::string& path, const config::SourceRef& source) {
  if (path.empty() || path.front() == '/' || source.file.empty()) return path;
  return (std::filesystem::path(source.file).parent_path() / path).string();
}

}  // namespace

std::shared_ptr<const net::TlsContext> build_server_tls(const MergedServer& merged,
                                                        DiagnosticSink& diagnostics) {
  const config::Server& server = *merged.server;
  const config::ServerTLSSettings& tls = *server.tls;
  const std::string field = "spec.servers[" + std::to_string(merged.server_index) + "].tls";
  if (tls.server_certificate.empty() || tls.private_key.empty()) {
    diagnostics.warning(
        "Gateway", merged.gateway->meta, field + ".credentialName",
        "credentialName (a Kubernetes Secret) is not supported yet; set serverCertificate and "
        "privateKey to PEM files; server skipped",
        &server.source);
    return nullptr;
  }
  net::TlsServerConfig config;
  config.cert_file = resolve_path(tls.server_certificate, server.source);
  config.key_file = resolve_path(tls.private_key, server.source);
  if (tls.mode == "MUTUAL") {
    config.ca_file = resolve_path(tls.ca_certificates, server.source);
    config.require_client_certificate = true;
  }
  config.alpn = {"http/1.1"};
  std::string error;
  auto context = net::TlsContext::server(config, error);
  if (!context) {
    diagnostics.warning("Gateway", merged.gateway->meta, field, error + "; server skipped", &server.source);
  }
  return context;
}

std::vector<std::string> sni_names(const MergedServer& merged) {
  std::vector<std::string> names;
  for (const std::string& h : merged.hosts) {
    const size_t slash = h.find('/');
    std::string host = host::to_lower(slash == std::string::npos ? h : h.substr(slash + 1));
    if (host == "*") return {};
    names.push_back(std::move(host));
  }
  return names;
}

}  // namespace torii::compile
