// Gateway selection and server merging (§0.1, §0.2, §2.2).
#include "compile/gateway_merge.h"

#include <gtest/gtest.h>

#include <map>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using testing::Resources;
using testing::server;

TEST(SelectGateways, SelectorMustBeSubsetOfOwnLabels) {
  Resources r;
  r.gateway("istio-system", "ingress", {server(80, {"*"})}, {{"istio", "ingressgateway"}});
  r.gateway("istio-system", "egress", {server(80, {"*"})}, {{"istio", "egressgateway"}});
  r.gateway("app", "everyone", {server(80, {"*"})}, {});  // empty selector: every gateway workload
  r.gateway("app", "narrow", {server(80, {"*"})}, {{"istio", "ingressgateway"}, {"zone", "b"}});
  GatewayIdentity identity;
  identity.labels = {{"istio", "ingressgateway"}, {"app", "torii"}};
  auto selected = select_gateways(r.set, identity);
  ASSERT_EQ(selected.size(), 2u);
  EXPECT_EQ(selected[0]->meta.name, "ingress");
  EXPECT_EQ(selected[1]->meta.name, "everyone");  // any namespace
}

TEST(MergeGateways, TwoGatewaysOnOnePortShareOneListener) {
  Resources r;
  r.gateway("istio-system", "a", {server(80, {"a.com"})});
  r.gateway("app", "b", {server(80, {"./b.com"}, "HTTP2")});
  DiagnosticSink diagnostics;
  GatewayIdentity identity;
  auto listeners = merge_gateways(select_gateways(r.set, identity), identity, diagnostics);
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(listeners[0].name, "0.0.0.0_80");
  ASSERT_EQ(listeners[0].servers.size(), 2u);
  EXPECT_EQ(listeners[0].servers[0].gateway_name, "istio-system/a");
  EXPECT_EQ(listeners[0].servers[1].gateway_name, "app/b");
  EXPECT_EQ(listeners[0].servers[1].hosts, (std::vector<std::string>{"app/b.com"}));
  EXPECT_TRUE(diagnostics.diagnostics().empty());
}

// The listeners of every selected Gateway of `r`, with --port-map `port_map`.
std::vector<MergedListener> merged(const Resources& r, std::map<uint32_t, uint32_t> port_map,
                                   DiagnosticSink& diagnostics) {
  GatewayIdentity identity;
  identity.port_map = std::move(port_map);
  return merge_gateways(select_gateways(r.set, identity), identity, diagnostics);
}

TEST(MergeGateways, PortMapAndBind) {
  Resources r;
  config::Server bound = server(80, {"*"});
  bound.bind = "127.0.0.1";
  r.gateway("istio-system", "gw", {server(80, {"*"}), bound, server(8081, {"*"}, "GRPC")});
  DiagnosticSink diagnostics;
  auto listeners = merged(r, {{80, 8080}}, diagnostics);
  ASSERT_EQ(listeners.size(), 3u);
  // Sorted by listen port then bind; different binds are separate listeners.
  EXPECT_EQ(listeners[0].name, "0.0.0.0_8080");
  EXPECT_EQ(listeners[0].gateway_port, 80u);
  EXPECT_EQ(listeners[0].listen_port, 8080u);
  EXPECT_EQ(listeners[1].name, "127.0.0.1_8080");
  EXPECT_EQ(listeners[2].name, "0.0.0.0_8081");
  EXPECT_EQ(listeners[2].gateway_port, 8081u);
}

TEST(MergeGateways, PortsMappedToZeroAreListenersOfTheirOwn) {
  // --port-map 80=0,443=0,8080=0: the kernel gives each its own port, so
  // they never merge, not even two plaintext HTTP ones.
  Resources r;
  r.gateway("istio-system", "gw", {server(80, {"*"}), server(8080, {"*"}), server(81, {"*"})});
  DiagnosticSink diagnostics;
  auto listeners = merged(r, {{80, 0}, {8080, 0}}, diagnostics);
  ASSERT_EQ(listeners.size(), 3u);
  EXPECT_EQ(listeners[0].name, "0.0.0.0_0_80");
  EXPECT_EQ(listeners[0].listen_port, 0u);
  EXPECT_EQ(listeners[0].gateway_port, 80u);
  EXPECT_EQ(listeners[1].name, "0.0.0.0_0_8080");
  EXPECT_EQ(listeners[1].gateway_port, 8080u);
  EXPECT_EQ(listeners[2].name, "0.0.0.0_81");  // not mapped: bound as-is
  EXPECT_TRUE(diagnostics.diagnostics().empty());
}

TEST(MergeGateways, UnsupportedServersAreSkippedWithAWarning) {
  // HTTPS without a tls block is not servable; TCP is a layer-4 listener.
  Resources r;
  r.gateway("istio-system", "gw",
            {server(80, {"*"}), server(443, {"*"}, "HTTPS"), server(3306, {"*"}, "TCP")});
  DiagnosticSink diagnostics;
  GatewayIdentity identity;
  auto listeners = merge_gateways(select_gateways(r.set, identity), identity, diagnostics);
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[1].name, "0.0.0.0_3306");
  EXPECT_TRUE(listeners[1].servers.empty());
  EXPECT_EQ(listeners[1].l4_servers.size(), 1u);
  ASSERT_EQ(diagnostics.diagnostics().size(), 1u);
  const auto& d = diagnostics.diagnostics()[0];
  EXPECT_EQ(d.severity, config::Diagnostic::Severity::Warning);
  EXPECT_EQ(d.kind, "Gateway");
  EXPECT_EQ(d.name, "gw");
  EXPECT_EQ(d.field, "spec.servers[1]");
  EXPECT_NE(d.message.find("HTTPS is not supported yet"), std::string::npos);
}

TEST(MergeGateways, FirstServerOnAPortDecidesTheProtocolFamily) {
  // canMergeProtocols: HTTP owns 80, a later TCP server there is dropped; TCP
  // owns 90 (oldest Gateway first), a later HTTP server there is dropped too.
  Resources r;
  r.gateway("istio-system", "old", {server(80, {"*"}), server(90, {"*"}, "TCP")});
  r.gateway("istio-system", "new", {server(80, {"*"}, "TCP"), server(90, {"*"})});
  DiagnosticSink diagnostics;
  GatewayIdentity identity;
  auto listeners = merge_gateways(select_gateways(r.set, identity), identity, diagnostics);
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[0].name, "0.0.0.0_80");
  ASSERT_EQ(listeners[0].servers.size(), 1u);
  EXPECT_EQ(listeners[1].name, "0.0.0.0_90");
  EXPECT_TRUE(listeners[1].servers.empty());
  ASSERT_EQ(listeners[1].l4_servers.size(), 1u);
  EXPECT_EQ(listeners[1].l4_servers[0].gateway_name, "istio-system/old");
  int conflicts = 0;
  for (const auto& d : diagnostics.diagnostics()) {
    if (d.message.find("conflicts with") != std::string::npos) {
      ++conflicts;
      EXPECT_EQ(d.name, "new");
    }
  }
  EXPECT_EQ(conflicts, 2);
}

TEST(MergeGateways, LayerFourServerKinds) {
  auto with_mode = [](config::Server s, std::string mode) {
    s.tls = config::ServerTLSSettings{};
    s.tls->mode = std::move(mode);
    return s;
  };
  // TLS without a mode is the API's default, PASSTHROUGH.
  EXPECT_TRUE(is_tls_passthrough(with_mode(server(443, {"*"}, "TLS"), "")));
  EXPECT_TRUE(is_tls_passthrough(with_mode(server(443, {"*"}, "HTTPS"), "PASSTHROUGH")));
  EXPECT_FALSE(is_tls_passthrough(with_mode(server(443, {"*"}, "HTTPS"), "SIMPLE")));
  EXPECT_TRUE(is_terminated_tls_tcp(with_mode(server(443, {"*"}, "TLS"), "MUTUAL")));
  EXPECT_FALSE(is_terminated_tls_tcp(with_mode(server(443, {"*"}, "HTTPS"), "SIMPLE")));
  EXPECT_TRUE(is_opaque_tcp(server(3306, {"*"}, "MYSQL")));
  EXPECT_FALSE(is_l4_server(with_mode(server(443, {"*"}, "TLS"), "AUTO_PASSTHROUGH")));
  EXPECT_FALSE(is_l4_server(with_mode(server(443, {"*"}, "TLS"), "ISTIO_MUTUAL")));
}

TEST(MergeGateways, PassthroughSharesAPortWithTerminatedHttps) {
  config::Server https = server(443, {"a.example.test"}, "HTTPS");
  https.tls = config::ServerTLSSettings{};
  https.tls->mode = "SIMPLE";
  config::Server pass = server(443, {"b.example.test"}, "TLS", "tls");
  pass.tls = config::ServerTLSSettings{};
  pass.tls->mode = "PASSTHROUGH";
  Resources r;
  r.gateway("istio-system", "gw", {https, pass, server(443, {"*"}, "HTTP", "plain")});
  DiagnosticSink diagnostics;
  GatewayIdentity identity;
  auto listeners = merge_gateways(select_gateways(r.set, identity), identity, diagnostics);
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_TRUE(listeners[0].tls_terminated);
  EXPECT_EQ(listeners[0].servers.size(), 1u);
  EXPECT_EQ(listeners[0].l4_servers.size(), 1u);
  // Plaintext HTTP cannot join them.
  ASSERT_EQ(diagnostics.diagnostics().size(), 1u);
  EXPECT_NE(diagnostics.diagnostics()[0].message.find("conflicts with"), std::string::npos);
}

TEST(MergeGateways, ProtocolsAreCaseInsensitive) {
  EXPECT_TRUE(is_plaintext_http("http"));
  EXPECT_TRUE(is_plaintext_http("GRPC-WEB"));
  EXPECT_TRUE(is_plaintext_http("Http2"));
  EXPECT_FALSE(is_plaintext_http("HTTPS"));
  EXPECT_FALSE(is_plaintext_http("TLS"));
}

}  // namespace
}  // namespace torii::compile
