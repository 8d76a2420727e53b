#include "compile/tls_server_builder.h"

#include "compile/host_name.h"
#include "compile/manifest_path.h"
#include "compile/secret_lookup.h"

namespace torii::compile {

std::shared_ptr<const net::TlsContext> build_server_tls(const MergedServer& merged,
                                                        const config::ObjectList<config::Secret>& secrets,
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
  // HTTP/2 first, as an Istio gateway's HTTPS listeners offer it.
  config.alpn = {"h2", "http/1.1"};
  // credentialNames / tlsCertificates may hold two certificates (say RSA and
  // ECDSA) for Envoy to choose from; Torii serves the first (validation
  // warns about the second).
  const std::string& credential =
      tls.credential_names.empty() ? tls.credential_name : tls.credential_names.front();
  const std::string credential_field =
      tls.credential_names.empty() ? ".credentialName" : ".credentialNames[0]";
  if (!credential.empty()) {
    const SecretLookup lookup(secrets, gateway_namespace);
    const std::string& also = merged.gateway->meta.namespace_;
    const config::Secret* secret = lookup.find(credential, also);
    if (secret == nullptr) {
      warn(credential_field, "no Secret \"" + credential + "\" in namespace " + gateway_namespace);
      return nullptr;
    }
    config.cert_pem = SecretLookup::value(*secret, "tls.crt", "cert");
    config.key_pem = SecretLookup::value(*secret, "tls.key", "key");
    if (config.cert_pem.empty() || config.key_pem.empty()) {
      warn(credential_field, "Secret " + secret->meta.namespace_ + "/" + secret->meta.name +
                                 " has no tls.crt and tls.key (or cert and key)");
      return nullptr;
    }
    if (mutual) {
      config.ca_pem = lookup.ca_of(*secret, credential, also);
      if (config.ca_pem.empty()) {
        warn(credential_field, "MUTUAL needs a CA: ca.crt (or cacert) in Secret " + credential +
                                   " or in Secret " + credential + "-cacert");
        return nullptr;
      }
    }
  } else {
    const bool listed = !tls.tls_certificates.empty();
    const std::string& cert =
        listed ? tls.tls_certificates.front().server_certificate : tls.server_certificate;
    const std::string& key = listed ? tls.tls_certificates.front().private_key : tls.private_key;
    config.cert_file = manifest_relative_path(cert, server.source);
    config.key_file = manifest_relative_path(key, server.source);
    // The client CA is the server's own caCertificates (istiod reads it there too).
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
