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
  if (mode == "ISTIO_MUTUAL") {
    // The gateway's own mesh identity is used, so nothing else may be given.
    if (!tls.server_certificate.empty()) {
      r.error(field + ".serverCertificate", "ISTIO_MUTUAL TLS cannot have associated server certificate");
    }
    if (!tls.private_key.empty())
      r.error(field + ".privateKey", "ISTIO_MUTUAL TLS cannot have associated private key");
    if (!tls.ca_certificates.empty()) {
      r.error(field + ".caCertificates", "ISTIO_MUTUAL TLS cannot have associated CA bundle");
    }
    if (!tls.credential_name.empty()) {
      r.error(field + ".credentialName", "ISTIO_MUTUAL TLS cannot have associated credentialName");
    }
    return;
  }
  const bool has_certs = !tls.server_certificate.empty() || !tls.private_key.empty() ||
                         !tls.ca_certificates.empty() || !tls.credential_name.empty();
  if ((mode.empty() || mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH") && has_certs) {
    // The enum default is PASSTHROUGH, which is what an unset mode means.
    r.warning(field, (mode.empty() ? std::string("PASSTHROUGH") : mode) +
                         " mode does not use certificates, they will be ignored");
  }
  // With a credential the certificates come from the secret.
  if (!tls.credential_name.empty()) return;
  if (mode == "SIMPLE") {
    if (tls.server_certificate.empty()) r.error(field, "SIMPLE TLS requires a server certificate");
    if (tls.private_key.empty()) r.error(field, "SIMPLE TLS requires a private key");
  } else if (mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL") {
    if (tls.server_certificate.empty()) r.error(field, "MUTUAL TLS requires a server certificate");
    if (tls.private_key.empty()) r.error(field, "MUTUAL TLS requires a private key");
    if (tls.ca_certificates.empty()) r.error(field, "MUTUAL TLS requires a client CA bundle");
  }
}

// Returns whether the port itself is valid (istiod checks TLS/protocol
// consistency only then).
bool check_server_port(Report& r, const std::string& field, const Server& server) {
  bool ok = true;
  const Port& port = server.port;
  if (!is_gateway_protocol(port.protocol)) {
    r.error(field + ".protocol", "invalid protocol \"" + port.protocol +
                                     "\", supported protocols are HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, "
                                     "TCP, TLS, REDIS, MYSQL");
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
