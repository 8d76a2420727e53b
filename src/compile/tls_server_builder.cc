#include "compile/tls_server_builder.h"

#include "compile/host_name.h"
#include "compile/manifest_path.h"

namespace torii::compile {

std::shared_ptr<const net::TlsContext> build_server_tls(const MergedServer& merged,
                                                        const std::vector<config::Secret>& secrets,
                                                        const std::string& gateway_namespace,
                                                        DiagnosticSink& diagnostics) {
  const config::Server& server = *merged.server;
  const config::ServerTLSSettings& tls = *server.tls;
  const std::string field = "spec.servers[" + std::to_string(merged.server_index) + "].tls";
  const bool mutual = tls.mode == "MUTUAL";
  auto warn = [&](const std::string& sub_field, const std::string& message) {
    diagnostics.warning("Gateway", merged.gateway->meta, field + sub_field, message + "; server skipped",
                        &server.source);
  };

  net::TlsServerConfig config;
  config.require_client_certificate = mutual;
  config.alpn = {"http/1.1"};
  if (!tls.credential_name.empty()) {
    auto find = [&](const std::string& name) -> const config::Secret* {
      for (const std::string& ns : {gateway_namespace, merged.gateway->meta.namespace_}) {
        for (const config::Secret& s : secrets) {
          if (s.meta.name == name && s.meta.namespace_ == ns) return &s;
        }
      }
      return nullptr;
    };
    auto value = [](const config::Secret& s, const char* a, const char* b) -> std::string {
      if (auto it = s.data.find(a); it != s.data.end()) return it->second;
      if (auto it = s.data.find(b); it != s.data.end()) return it->second;
      return "";
    };
    const config::Secret* secret = find(tls.credential_name);
    if (secret == nullptr) {
      warn(".credentialName", "no Secret \"" + tls.credential_name + "\" in namespace " + gateway_namespace);
      return nullptr;
    }
    config.cert_pem = value(*secret, "tls.crt", "cert");
    config.key_pem = value(*secret, "tls.key", "key");
    if (config.cert_pem.empty() || config.key_pem.empty()) {
      warn(".credentialName", "Secret " + secret->meta.namespace_ + "/" + secret->meta.name +
                                  " has no tls.crt and tls.key (or cert and key)");
      return nullptr;
    }
    if (mutual) {
      config.ca_pem = value(*secret, "ca.crt", "cacert");
      const config::Secret* ca = find(tls.credential_name + "-cacert");
      if (config.ca_pem.empty() && ca != nullptr) config.ca_pem = value(*ca, "ca.crt", "cacert");
      if (config.ca_pem.empty()) {
        warn(".credentialName", "MUTUAL needs a CA: ca.crt (or cacert) in Secret " + tls.credential_name +
                                    " or in Secret " + tls.credential_name + "-cacert");
        return nullptr;
      }
    }
  } else {
    config.cert_file = manifest_relative_path(tls.server_certificate, server.source);
    config.key_file = manifest_relative_path(tls.private_key, server.source);
    if (mutual) config.ca_file = manifest_relative_path(tls.ca_certificates, server.source);
  }
  std::string error;
  auto context = net::TlsContext::server(config, error);
  if (!context) warn("", error);
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
