// Gateway validation (istiod: ValidateGateway, validateServer,
// validateServerPort, validateServerBind, validateTLSOptions).
#include <set>

#include "config/names.h"
#include "config/validate.h"
#include "config/validate_common.h"

namespace torii::config {
namespace {

// The dnsName part of a server host: `*`, `*.suffix`, an FQDN or an IP.
void check_host_name(Report& r, const std::string& field, std::string_view host) {
  // istiod also calls IPv6 literals short names (no dot); an IP is clearly meant.
  if (host != "*" && host.find('.') == std::string_view::npos && !is_ip_address(host)) {
    r.error(field, "short names (non FQDN) are not allowed");
  }
  if (std::string err = check_wildcard_domain(host); !err.empty() && !is_ip_address(host)) {
    r.error(field, std::move(err));
  }
  r.error_unless_empty(field, check_partial_wildcard(host));
}

// `[namespace/]dnsName` with namespace `*`, `.` or a DNS label.
void check_server_host(Report& r, const std::string& field, const std::string& host) {
  const size_t slash = host.find('/');
  if (slash == std::string::npos) {
    check_host_name(r, field, host);
    return;
  }
  const std::string ns = host.substr(0, slash);
  const std::string name = host.substr(slash + 1);
  if (ns.empty() || name.empty())
    r.error(field, "config namespace and dnsName in host entry cannot be empty");
  if (ns != "*" && ns != "." && !is_dns1123_label(ns)) {
    r.error(field, "invalid namespace value \"" + ns + "\" in gateway");
  }
  check_host_name(r, field, name);
}

// security.ValidCipherSuites (`bssl ciphers -openssl-name ALL`, no PSK).
bool is_valid_cipher_suite(const std::string& cs) {
  static const std::set<std::string> kValid = {"ECDHE-ECDSA-AES128-GCM-SHA256",
                                               "ECDHE-RSA-AES128-GCM-SHA256",
                                               "ECDHE-ECDSA-AES256-GCM-SHA384",
                                               "ECDHE-RSA-AES256-GCM-SHA384",
                                               "ECDHE-ECDSA-CHACHA20-POLY1305",
                                               "ECDHE-RSA-CHACHA20-POLY1305",
                                               "ECDHE-ECDSA-AES128-SHA",
                                               "ECDHE-RSA-AES128-SHA",
                                               "ECDHE-ECDSA-AES256-SHA",
                                               "ECDHE-RSA-AES256-SHA",
                                               "AES128-GCM-SHA256",
                                               "AES256-GCM-SHA384",
                                               "AES128-SHA",
                                               "AES256-SHA",
                                               "DES-CBC3-SHA"};
  if (cs.empty() || cs == "ALL") return true;
  const char c = cs.front();
  const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (!alnum) return true;  // "-X" / "+X" operators are passed on
  return kValid.contains(cs);
}

std::string join_sorted(const std::set<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) out += (out.size() > 1 ? " " : "") + item;
  return out + "]";
}

// Fields Torii reads but does not implement yet: say so rather than serve
// something weaker than asked without a word.
void warn_unimplemented_tls(Report& r, const std::string& field, const ServerTLSSettings& tls) {
  auto warn = [&](bool set, const char* name, const char* what) {
    if (set) r.warning(field + "." + name, std::string(name) + " is not implemented by Torii; " + what);
  };
  warn(!tls.min_protocol_version.empty() && tls.min_protocol_version != "TLS_AUTO", "minProtocolVersion",
       "TLS 1.2 and 1.3 are accepted");
  warn(!tls.max_protocol_version.empty() && tls.max_protocol_version != "TLS_AUTO", "maxProtocolVersion",
       "TLS 1.2 and 1.3 are accepted");
  warn(!tls.cipher_suites.empty(), "cipherSuites", "OpenSSL's default ciphers are used");
  warn(!tls.ca_crl.empty(), "caCrl", "client certificates are not checked for revocation");
  warn(!tls.subject_alt_names.empty(), "subjectAltNames", "any client certificate the CA signed is accepted");
  warn(!tls.verify_certificate_spki.empty(), "verifyCertificateSpki",
       "any client certificate the CA signed is accepted");
  warn(!tls.verify_certificate_hash.empty(), "verifyCertificateHash",
       "any client certificate the CA signed is accepted");
  if (tls.credential_names.size() > 1) {
    r.warning(field + ".credentialNames", "Torii serves the first certificate only");
  } else if (tls.tls_certificates.size() > 1) {
    r.warning(field + ".tlsCertificates", "Torii serves the first certificate only");
  }
}

// Protocol versions (an enum) and istiod's warnings on ciphers and old versions.
void check_versions_and_ciphers(Report& r, const std::string& field, const ServerTLSSettings& tls) {
  static const std::set<std::string> kVersions = {"", "TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"};
  for (const auto& [name, value] : {std::pair{"minProtocolVersion", &tls.min_protocol_version},
                                    std::pair{"maxProtocolVersion", &tls.max_protocol_version}}) {
    if (!kVersions.contains(*value)) {
      r.error(field + "." + name,
              "invalid value \"" + *value + "\" (expected TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2 or TLSV1_3)");
    }
  }
  if ((tls.min_protocol_version == "TLSV1_0" || tls.min_protocol_version == "TLSV1_1") &&
      tls.cipher_suites.empty()) {
    r.warning(field + ".minProtocolVersion",
              "TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer "
              "include compatible ciphers.");
  }
  std::set<std::string> invalid;
  std::set<std::string> valid;
  std::set<std::string> duplicate;
  for (const std::string& cs : tls.cipher_suites) {
    if (!is_valid_cipher_suite(cs)) {
      invalid.insert(cs);
    } else if (!valid.insert(cs).second) {
      duplicate.insert(cs);
    }
  }
  if (!invalid.empty())
    r.warning(field + ".cipherSuites", "ignoring invalid cipher suites: " + join_sorted(invalid));
  if (!duplicate.empty()) {
    r.warning(field + ".cipherSuites", "ignoring duplicate cipher suites: " + join_sorted(duplicate));
  }
}

// The CRD's rules on the certificate lists (x-kubernetes-validations, maxItems).
void check_certificate_lists(Report& r, const std::string& field, const ServerTLSSettings& tls) {
  if (!tls.credential_names.empty() && !tls.tls_certificates.empty())
    r.error(field, "only one of credentialNames or tlsCertificates can be set");
  if (!tls.credential_name.empty() && !tls.credential_names.empty())
    r.error(field, "only one of credentialName or credentialNames can be set");
  if (tls.credential_names.size() > 2) r.error(field + ".credentialNames", "must have at most 2 items");
  if (tls.tls_certificates.size() > 2) r.error(field + ".tlsCertificates", "must have at most 2 items");
}

// ISTIO_MUTUAL: the gateway's own mesh identity is used, so nothing else may be given.
void check_istio_mutual(Report& r, const std::string& field, const ServerTLSSettings& tls) {
  if (!tls.server_certificate.empty()) {
    r.error(field + ".serverCertificate", "ISTIO_MUTUAL TLS cannot have associated server certificate");
  }
  if (!tls.private_key.empty())
    r.error(field + ".privateKey", "ISTIO_MUTUAL TLS cannot have associated private key");
  if (!tls.ca_certificates.empty()) {
    r.error(field + ".caCertificates", "ISTIO_MUTUAL TLS cannot have associated CA bundle");
  }
  if (!tls.tls_certificates.empty()) {
    r.error(field + ".tlsCertificates", "ISTIO_MUTUAL TLS cannot have associated tlsCertificates");
  }
  if (!tls.credential_name.empty()) {
    r.error(field + ".credentialName", "ISTIO_MUTUAL TLS cannot have associated credentialName");
  }
  if (!tls.credential_names.empty()) {
    r.error(field + ".credentialNames", "ISTIO_MUTUAL TLS cannot have associated credentialNames");
  }
}

// SIMPLE / MUTUAL / OPTIONAL_MUTUAL without a credential: files, one pair or a list.
void check_server_certificates(Report& r, const std::string& field, const ServerTLSSettings& tls) {
  const std::string& mode = tls.mode;
  const std::string prefix = mode == "SIMPLE" ? "SIMPLE TLS" : "MUTUAL TLS";
  if (mode != "SIMPLE" && tls.ca_certificates.empty())
    r.error(field, prefix + " requires a client CA bundle");
  if (tls.tls_certificates.size() > 2) r.warning(field, prefix + " can support up to 2 server certificates");
  if (tls.tls_certificates.empty()) {
    if (tls.server_certificate.empty()) r.error(field, prefix + " requires a server certificate");
    if (tls.private_key.empty()) r.error(field, prefix + " requires a private key");
  }
  for (size_t i = 0; i < tls.tls_certificates.size(); ++i) {
    const std::string f = at(field + ".tlsCertificates", i);
    if (tls.tls_certificates[i].server_certificate.empty())
      r.error(f, prefix + " requires a server certificate");
    if (tls.tls_certificates[i].private_key.empty()) r.error(f, prefix + " requires a private key");
  }
}

// istiod validateTLSOptions, plus the CRD's CEL rules on the certificate lists.
void check_tls_options(Report& r, const std::string& field, const ServerTLSSettings& tls) {
  const std::string& mode = tls.mode;
  const bool known = mode.empty() || mode == "PASSTHROUGH" || mode == "SIMPLE" || mode == "MUTUAL" ||
                     mode == "AUTO_PASSTHROUGH" || mode == "ISTIO_MUTUAL" || mode == "OPTIONAL_MUTUAL";
  if (!known) {
    r.error(field + ".mode", "invalid TLS mode \"" + mode +
                                 "\", supported modes are PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, "
                                 "ISTIO_MUTUAL, OPTIONAL_MUTUAL");
    return;
  }
  check_versions_and_ciphers(r, field, tls);
  check_certificate_lists(r, field, tls);

  const bool any_cert = !tls.server_certificate.empty() || !tls.private_key.empty() ||
                        !tls.ca_certificates.empty() || !tls.credential_name.empty() ||
                        !tls.credential_names.empty() || !tls.tls_certificates.empty();
  if (mode == "ISTIO_MUTUAL") {
    check_istio_mutual(r, field, tls);
    return;
  }
  if ((mode.empty() || mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH") &&
      (any_cert || !tls.ca_crl.empty())) {
    // The enum default is PASSTHROUGH, which is what an unset mode means.
    r.warning(field, (mode.empty() ? std::string("PASSTHROUGH") : mode) +
                         " mode does not use certificates, they will be ignored");
  }
  const int sources = (!tls.server_certificate.empty() && !tls.private_key.empty() ? 1 : 0) +
                      (!tls.credential_name.empty() ? 1 : 0) + (!tls.credential_names.empty() ? 1 : 0) +
                      (!tls.tls_certificates.empty() ? 1 : 0);
  if (sources > 1) {
    r.error(field,
            "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates "
            "should be specified");
  }
  const bool terminating = mode == "SIMPLE" || mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL";
  if (terminating) warn_unimplemented_tls(r, field, tls);
  // With a credential the certificates come from the secret.
  if (terminating && (!tls.credential_name.empty() || !tls.credential_names.empty())) return;
  if (terminating) check_server_certificates(r, field, tls);
  if (!tls.ca_crl.empty()) {
    if (!tls.credential_name.empty()) {
      r.error(field + ".caCrl",
              "CRL is not supported with credentialName. CRL has to be specified in the credential");
    }
    if (mode == "SIMPLE") r.error(field + ".caCrl", "CRL is not supported with SIMPLE TLS");
  }
}

// Returns whether the port itself is valid (istiod checks TLS/protocol
// consistency only then).
bool check_server_port(Report& r, const std::string& field, const Server& server) {
  bool ok = true;
  const Port& port = server.port;
  // istiod accepts any protocol.Parse knows (UDP and HTTP_PROXY included);
  // the compiler skips, with a warning, servers it cannot serve.
  if (!is_known_protocol(port.protocol)) {
    r.error(field + ".protocol", "invalid protocol \"" + port.protocol +
                                     "\", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, "
                                     "MYSQL, TCP");
    ok = false;
  }
  // Port 0 is how a Unix domain socket bind is written.
  if (port.number > 0 || !server.bind.starts_with(kUnixPrefix)) {
    if (std::string err = check_port(port.number); !err.empty()) {
      r.error(field + ".number", std::move(err));
      ok = false;
    }
  }
  if (port.target_port > 0) {
    r.error(field + ".targetPort", "targetPort has no impact on Gateways");
    ok = false;
  }
  if (port.name.empty()) {
    r.error(field + ".name", "port name must be set");
    ok = false;
  }
  return ok;
}

void check_bind(Report& r, const std::string& field, const Server& server) {
  const std::string& bind = server.bind;
  if (bind.starts_with(kUnixPrefix)) {
    r.error_unless_empty(field, check_unix_address(std::string_view(bind).substr(kUnixPrefix.size())));
    if (server.port.number != 0) r.error(field, "port number must be 0 for unix domain socket");
  } else if (!bind.empty()) {
    r.error_unless_empty(field, check_ip_address(bind));
  }
}

void check_server(Report& r, const std::string& field, const Server& server) {
  if (server.hosts.empty()) r.error(field + ".hosts", "server config must contain at least one host");
  for (size_t i = 0; i < server.hosts.size(); ++i)
    check_server_host(r, at(field + ".hosts", i), server.hosts[i]);

  const bool port_ok = check_server_port(r, field + ".port", server);
  check_bind(r, field + ".bind", server);
  if (server.tls) check_tls_options(r, field + ".tls", *server.tls);

  if (!port_ok) return;
  const std::string& protocol = server.port.protocol;
  if (is_tls_protocol(protocol) && !server.tls) {
    r.error(field, "server must have TLS settings for HTTPS/TLS protocols");
  } else if (!is_tls_protocol(protocol) && server.tls) {
    if (is_http_protocol(protocol)) {
      // Only `httpsRedirect` makes sense on plain HTTP; a tls block holding just
      // that has the default mode PASSTHROUGH.
      const ServerTLSSettings& tls = *server.tls;
      const bool passthrough =
          tls.mode.empty() || tls.mode == "PASSTHROUGH" || tls.mode == "AUTO_PASSTHROUGH";
      if (!passthrough || !tls.ca_certificates.empty() || !tls.private_key.empty() ||
          !tls.server_certificate.empty()) {
        r.error(field + ".tls", "server cannot have TLS settings for plain text HTTP ports");
      }
    } else {
      r.error(field + ".tls", "server cannot have TLS settings for non HTTPS/TLS ports");
    }
  }
}

}  // namespace

Diagnostics validate(const Gateway& gateway, const FieldLines& lines) {
  Report r("Gateway", gateway.meta, lines);
  if (!is_dns1123_label(gateway.meta.name)) {
    r.error("metadata.name", "invalid gateway name: \"" + gateway.meta.name + "\"");
  }
  if (gateway.servers.empty()) r.error("spec.servers", "gateway must have at least one server");

  std::set<std::string> port_names;
  std::set<std::string> server_names;
  for (size_t i = 0; i < gateway.servers.size(); ++i) {
    const Server& server = gateway.servers[i];
    const std::string field = at("spec.servers", i);
    check_server(r, field, server);
    if (!server.port.name.empty() && !port_names.insert(server.port.name).second) {
      r.error(field + ".port.name",
              "port names in servers must be unique: duplicate name " + server.port.name);
    }
    if (server.tls && server.tls->https_redirect && !is_http_protocol(server.port.protocol)) {
      r.warning(field + ".tls.httpsRedirect", "tls.httpsRedirect should only be used with http servers");
    }
    // istiod only logs this; the name prefixes stats, so a duplicate merges them.
    if (!server.name.empty() && !server_names.insert(server.name).second) {
      r.warning(field + ".name", "duplicate server name \"" + server.name + "\"");
    }
  }
  return r.take();
}

}  // namespace torii::config
