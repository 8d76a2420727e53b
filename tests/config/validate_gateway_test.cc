// Gateway validation rules, one test each (field path + message).
#include <gtest/gtest.h>

#include "config/validate.h"
#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::no_errors;
using testing::rejected;

LoadResult gateway(std::string_view spec, std::string_view name = "gw") {
  return testing::load_istio("Gateway", spec, name);
}

// A server block with the given overrides, as one flow-style list item.
std::string server(std::string_view port = "{number: 80, name: http, protocol: HTTP}",
                   std::string_view hosts = "[\"*\"]", std::string_view extra = "") {
  return "- port: " + std::string(port) + "\n  hosts: " + std::string(hosts) + "\n" +
         (extra.empty() ? "" : "  " + std::string(extra) + "\n");
}

LoadResult one_server(std::string_view port, std::string_view hosts = "[\"*\"]",
                      std::string_view extra = "") {
  return gateway("servers:\n" + server(port, hosts, extra));
}

LoadResult with_hosts(std::string_view hosts) {
  return one_server("{number: 80, name: http, protocol: HTTP}", hosts);
}

TEST(ValidateGatewayTest, ValidGateway) {
  const LoadResult r = gateway("selector: {istio: ingressgateway}\nservers:\n" + server() +
                               server("{number: 443, name: https, protocol: HTTPS}", "[\"a.example.com\"]",
                                      "tls: {mode: SIMPLE, credentialName: cert}"));
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(r.diagnostics.empty()) << testing::dump(r.diagnostics);
}

TEST(ValidateGatewayTest, NameMustBeDnsLabel) {
  const LoadResult r = gateway("servers:\n" + server(), "my.gateway");
  EXPECT_TRUE(rejected(r));
  EXPECT_TRUE(has_error(r, "metadata.name", "invalid gateway name: \"my.gateway\""));
}

TEST(ValidateGatewayTest, AtLeastOneServer) {
  EXPECT_TRUE(has_error(gateway("servers: []\n"), "spec.servers", "gateway must have at least one server"));
  EXPECT_TRUE(
      has_error(gateway("selector: {a: b}\n"), "spec.servers", "gateway must have at least one server"));
}

TEST(ValidateGatewayTest, ServerNeedsAHost) {
  EXPECT_TRUE(
      has_error(with_hosts("[]"), "spec.servers[0].hosts", "server config must contain at least one host"));
}

TEST(ValidateGatewayTest, PortNumberRange) {
  EXPECT_TRUE(has_error(one_server("{number: 0, name: http, protocol: HTTP}"), "spec.servers[0].port.number",
                        "port number 0 must be in the range 1..65535"));
  EXPECT_TRUE(has_error(one_server("{number: 70000, name: http, protocol: HTTP}"),
                        "spec.servers[0].port.number", "port number 70000 must be in the range 1..65535"));
}

TEST(ValidateGatewayTest, PortNameRequired) {
  EXPECT_TRUE(has_error(one_server("{number: 80, protocol: HTTP}"), "spec.servers[0].port.name",
                        "port name must be set"));
}

TEST(ValidateGatewayTest, ProtocolMustBeKnownCaseInsensitive) {
  EXPECT_TRUE(has_error(one_server("{number: 80, name: x, protocol: FTP}"), "spec.servers[0].port.protocol",
                        "invalid protocol \"FTP\""));
  EXPECT_TRUE(has_error(one_server("{number: 80, name: x}"), "spec.servers[0].port.protocol",
                        "invalid protocol \"\""));
  // Everything istiod's protocol.Parse knows, UDP and HTTP_PROXY included (the compiler
  // serves HTTP_PROXY as HTTP and skips UDP with a warning).
  for (const char* p :
       {"http", "Grpc", "grpc-web", "HTTP2", "mongo", "tcp", "redis", "mysql", "udp", "http_proxy"}) {
    EXPECT_TRUE(no_errors(one_server(std::string("{number: 80, name: x, protocol: ") + p + "}"))) << p;
  }
}

TEST(ValidateGatewayTest, PortNamesUnique) {
  const LoadResult r =
      gateway("servers:\n" + server() + server("{number: 8080, name: http, protocol: HTTP}"));
  EXPECT_TRUE(
      has_error(r, "spec.servers[1].port.name", "port names in servers must be unique: duplicate name http"));
}

TEST(ValidateGatewayTest, TargetPortForbidden) {
  EXPECT_TRUE(has_error(one_server("{number: 80, name: http, protocol: HTTP, targetPort: 8080}"),
                        "spec.servers[0].port.targetPort", "targetPort has no impact on Gateways"));
}

TEST(ValidateGatewayTest, HostsAccepted) {
  EXPECT_TRUE(no_errors(
      with_hosts("[\"*\", \"*.example.com\", a.example.com, ns1/a.example.com, \"*/b.example.com\", "
                 "./c.example.com, 10.0.0.1, \"::1\", \"example.com.\"]")));
}

TEST(ValidateGatewayTest, ShortNamesRejected) {
  EXPECT_TRUE(has_error(with_hosts("[httpbin]"), "spec.servers[0].hosts[0]",
                        "short names (non FQDN) are not allowed"));
  EXPECT_TRUE(has_error(with_hosts("[ns/httpbin]"), "spec.servers[0].hosts[0]",
                        "short names (non FQDN) are not allowed"));
}

TEST(ValidateGatewayTest, PartialWildcardsRejected) {
  EXPECT_TRUE(has_error(with_hosts("[\"*foo.example.com\"]"), "spec.servers[0].hosts[0]",
                        "partial wildcard \"*foo.example.com\" not allowed"));
  EXPECT_TRUE(has_error(with_hosts("[\"foo*.example.com\"]"), "spec.servers[0].hosts[0]", "invalid"));
  EXPECT_TRUE(has_error(with_hosts("[\"a.*.example.com\"]"), "spec.servers[0].hosts[0]", "invalid"));
}

TEST(ValidateGatewayTest, HostNamespacePart) {
  EXPECT_TRUE(has_error(with_hosts("[\"bad_ns/a.example.com\"]"), "spec.servers[0].hosts[0]",
                        "invalid namespace value \"bad_ns\" in gateway"));
  EXPECT_TRUE(has_error(with_hosts("[\"/a.example.com\"]"), "spec.servers[0].hosts[0]",
                        "config namespace and dnsName in host entry cannot be empty"));
  EXPECT_TRUE(
      has_error(with_hosts("[\"~/a.example.com\"]"), "spec.servers[0].hosts[0]", "invalid namespace value"));
}

TEST(ValidateGatewayTest, InvalidDomain) {
  EXPECT_TRUE(has_error(with_hosts("[\"a..example.com\"]"), "spec.servers[0].hosts[0]",
                        "domain name \".example.com\" invalid (label \"\" invalid)"));  // istiod's wording
  EXPECT_TRUE(
      has_error(with_hosts("[\"a.example.123\"]"), "spec.servers[0].hosts[0]", "cannot be all-numeric"));
}

TEST(ValidateGatewayTest, BindMustBeAnIp) {
  EXPECT_TRUE(
      no_errors(one_server("{number: 80, name: http, protocol: HTTP}", "[\"*\"]", "bind: 127.0.0.1")));
  EXPECT_TRUE(has_error(one_server("{number: 80, name: http, protocol: HTTP}", "[\"*\"]", "bind: localhost"),
                        "spec.servers[0].bind", "localhost is not a valid IP"));
}

TEST(ValidateGatewayTest, UnixBindNeedsPortZero) {
  EXPECT_TRUE(no_errors(
      one_server("{number: 0, name: uds, protocol: HTTP}", "[\"*\"]", "bind: unix:///var/run/gw.sock")));
  EXPECT_TRUE(has_error(
      one_server("{number: 80, name: uds, protocol: HTTP}", "[\"*\"]", "bind: unix:///var/run/gw.sock"),
      "spec.servers[0].bind", "port number must be 0 for unix domain socket"));
  EXPECT_TRUE(
      has_error(one_server("{number: 0, name: uds, protocol: HTTP}", "[\"*\"]", "bind: unix://relative"),
                "spec.servers[0].bind", "is not an absolute path to a file"));
}

TEST(ValidateGatewayTest, HttpsAndTlsServersNeedTls) {
  EXPECT_TRUE(has_error(one_server("{number: 443, name: https, protocol: HTTPS}"), "spec.servers[0]",
                        "server must have TLS settings for HTTPS/TLS protocols"));
  EXPECT_TRUE(has_error(one_server("{number: 443, name: tls, protocol: TLS}"), "spec.servers[0]",
                        "server must have TLS settings for HTTPS/TLS protocols"));
  EXPECT_TRUE(no_errors(
      one_server("{number: 443, name: tls, protocol: TLS}", "[\"*\"]", "tls: {mode: PASSTHROUGH}")));
}

TEST(ValidateGatewayTest, PlainHttpOnlyHttpsRedirect) {
  EXPECT_TRUE(no_errors(
      one_server("{number: 80, name: http, protocol: HTTP}", "[\"*\"]", "tls: {httpsRedirect: true}")));
  EXPECT_TRUE(has_error(one_server("{number: 80, name: http, protocol: HTTP}", "[\"*\"]",
                                   "tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k}"),
                        "spec.servers[0].tls", "server cannot have TLS settings for plain text HTTP ports"));
  EXPECT_TRUE(has_error(one_server("{number: 80, name: http, protocol: HTTP}", "[\"*\"]",
                                   "tls: {httpsRedirect: true, serverCertificate: /c}"),
                        "spec.servers[0].tls", "server cannot have TLS settings for plain text HTTP ports"));
}

TEST(ValidateGatewayTest, NonHttpNonTlsServerCannotHaveTls) {
  EXPECT_TRUE(has_error(one_server("{number: 9000, name: tcp, protocol: TCP}", "[\"*\"]",
                                   "tls: {mode: SIMPLE, credentialName: c}"),
                        "spec.servers[0].tls", "server cannot have TLS settings for non HTTPS/TLS ports"));
}

TEST(ValidateGatewayTest, HttpsRedirectOnNonHttpWarns) {
  const LoadResult r = one_server("{number: 443, name: https, protocol: HTTPS}", "[\"*\"]",
                                  "tls: {httpsRedirect: true, mode: SIMPLE, credentialName: c}");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.servers[0].tls.httpsRedirect",
                          "tls.httpsRedirect should only be used with http servers"));
}

TEST(ValidateGatewayTest, TlsModeRequirements) {
  const std::string https = "{number: 443, name: https, protocol: HTTPS}";
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]", "tls: {mode: SIMPLE}"), "spec.servers[0].tls",
                        "SIMPLE TLS requires a server certificate"));
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]", "tls: {mode: SIMPLE, serverCertificate: /c}"),
                        "spec.servers[0].tls", "SIMPLE TLS requires a private key"));
  EXPECT_TRUE(
      has_error(one_server(https, "[\"*\"]", "tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k}"),
                "spec.servers[0].tls", "MUTUAL TLS requires a client CA bundle"));
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]", "tls: {mode: OPTIONAL_MUTUAL}"), "spec.servers[0].tls",
                        "MUTUAL TLS requires a server certificate"));
  EXPECT_TRUE(no_errors(one_server(https, "[\"*\"]", "tls: {mode: MUTUAL, credentialName: c}")));
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]", "tls: {mode: ISTIO_MUTUAL, credentialName: c}"),
                        "spec.servers[0].tls.credentialName",
                        "ISTIO_MUTUAL TLS cannot have associated credentialName"));
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]", "tls: {mode: STRICT}"), "spec.servers[0].tls.mode",
                        "invalid TLS mode \"STRICT\""));
}

TEST(ValidateGatewayTest, CertificateLists) {
  const std::string https = "{number: 443, name: https, protocol: HTTPS}";
  // credentialNames and tlsCertificates supply the certificates (they were refused before).
  EXPECT_TRUE(no_errors(one_server(https, "[\"*\"]", "tls: {mode: SIMPLE, credentialNames: [a]}")));
  EXPECT_TRUE(no_errors(one_server(https, "[\"*\"]", "tls: {mode: MUTUAL, credentialNames: [a]}")));
  EXPECT_TRUE(no_errors(one_server(https, "[\"*\"]",
                                   "tls: {mode: SIMPLE, tlsCertificates: [{serverCertificate: /c, "
                                   "privateKey: /k}]}")));
  const LoadResult two = one_server(https, "[\"*\"]", "tls: {mode: SIMPLE, credentialNames: [a, b]}");
  EXPECT_TRUE(no_errors(two));
  EXPECT_TRUE(
      has_warning(two, "spec.servers[0].tls.credentialNames", "Torii serves the first certificate only"));
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]", "tls: {mode: SIMPLE, credentialNames: [a, b, c]}"),
                        "spec.servers[0].tls.credentialNames", "must have at most 2 items"));
  EXPECT_TRUE(
      has_error(one_server(https, "[\"*\"]", "tls: {mode: SIMPLE, tlsCertificates: [{privateKey: /k}]}"),
                "spec.servers[0].tls.tlsCertificates[0]", "SIMPLE TLS requires a server certificate"));
  EXPECT_TRUE(
      has_error(one_server(https, "[\"*\"]", "tls: {mode: SIMPLE, credentialName: a, credentialNames: [b]}"),
                "spec.servers[0].tls", "only one of credentialName or credentialNames can be set"));
  EXPECT_TRUE(
      has_error(one_server(https, "[\"*\"]",
                           "tls: {mode: SIMPLE, credentialName: a, serverCertificate: /c, privateKey: /k}"),
                "spec.servers[0].tls",
                "only one of credential_name, credential_names, server_certificate/private_key, "
                "tls_certificates should be specified"));
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]", "tls: {mode: ISTIO_MUTUAL, credentialNames: [a]}"),
                        "spec.servers[0].tls.credentialNames",
                        "ISTIO_MUTUAL TLS cannot have associated credentialNames"));
}

TEST(ValidateGatewayTest, TlsFieldsToriiDoesNotImplementWarn) {
  const std::string https = "{number: 443, name: https, protocol: HTTPS}";
  const LoadResult r = one_server(https, "[\"*\"]",
                                  "tls: {mode: SIMPLE, credentialName: a, minProtocolVersion: TLSV1_3, "
                                  "cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.servers[0].tls.minProtocolVersion", "not implemented by Torii"));
  EXPECT_TRUE(has_warning(r, "spec.servers[0].tls.cipherSuites", "not implemented by Torii"));
  // istiod's own warnings on cipher suites and old versions.
  const LoadResult ciphers = one_server(https, "[\"*\"]",
                                        "tls: {mode: SIMPLE, credentialName: a, cipherSuites: [NOPE, "
                                        "AES128-SHA, AES128-SHA, \"-AES256-SHA\"]}");
  EXPECT_TRUE(
      has_warning(ciphers, "spec.servers[0].tls.cipherSuites", "ignoring invalid cipher suites: [NOPE]"));
  EXPECT_TRUE(has_warning(ciphers, "spec.servers[0].tls.cipherSuites",
                          "ignoring duplicate cipher suites: [AES128-SHA]"));
  EXPECT_TRUE(has_warning(one_server(https, "[\"*\"]",
                                     "tls: {mode: SIMPLE, credentialName: a, "
                                     "minProtocolVersion: TLSV1_0}"),
                          "spec.servers[0].tls.minProtocolVersion", "TLS version below TLSV1_2 require"));
  EXPECT_TRUE(has_error(one_server(https, "[\"*\"]",
                                   "tls: {mode: SIMPLE, credentialName: a, "
                                   "minProtocolVersion: TLSV9}"),
                        "spec.servers[0].tls.minProtocolVersion", "invalid value \"TLSV9\""));
  EXPECT_TRUE(has_error(
      one_server(https, "[\"*\"]", "tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k, caCrl: /crl}"),
      "spec.servers[0].tls.caCrl", "CRL is not supported with SIMPLE TLS"));
}

TEST(ValidateGatewayTest, PassthroughWithCertificatesWarns) {
  const LoadResult r = one_server("{number: 443, name: tls, protocol: TLS}", "[\"*\"]",
                                  "tls: {mode: PASSTHROUGH, serverCertificate: /c}");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.servers[0].tls",
                          "PASSTHROUGH mode does not use certificates, they will be ignored"));
}

TEST(ValidateGatewayTest, DuplicateServerNameWarns) {
  const LoadResult r =
      gateway("servers:\n" + server("{number: 80, name: a, protocol: HTTP}", "[\"*\"]", "name: s") +
              server("{number: 81, name: b, protocol: HTTP}", "[\"*\"]", "name: s"));
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.servers[1].name", "duplicate server name \"s\""));
}

TEST(ValidateGatewayTest, ErrorPointsAtTheFieldLine) {
  const LoadResult r = testing::load(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - a.example.com
    - httpbin
)");
  ASSERT_TRUE(has_error(r, "spec.servers[0].hosts[1]", "short names"));
  EXPECT_EQ(r.objects[0].errors[0].source.line, 12);
}

TEST(ValidateGatewayTest, DirectCallWithoutLinesUsesObjectLine) {
  Gateway gw;
  gw.meta.name = "gw";
  gw.meta.namespace_ = "ns";
  gw.meta.source = {"x.yaml", 7};
  const Diagnostics d = validate(gw);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].format(), "x.yaml:7: Gateway ns/gw: spec.servers: gateway must have at least one server");
}

}  // namespace
}  // namespace torii::config
