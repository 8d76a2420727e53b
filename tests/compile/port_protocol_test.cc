// Port protocol detection and the upstream HTTP version (ISTIO_SEMANTICS §4.4).
#include "compile/port_protocol.h"

#include <gtest/gtest.h>

namespace torii::compile {
namespace {

using upstream::UpstreamProtocol;

TEST(PortProtocolTest, KubernetesPortNamePrefix) {
  struct Case {
    const char* name;
    PortProtocol want;
  };
  const Case cases[] = {
      {"http", PortProtocol::Http},         {"http-api", PortProtocol::Http},
      {"http2", PortProtocol::Http2},       {"http2-api", PortProtocol::Http2},
      {"grpc", PortProtocol::Grpc},         {"GRPC-backend", PortProtocol::Grpc},
      {"grpc-web", PortProtocol::GrpcWeb},  {"grpc-web-ui", PortProtocol::GrpcWeb},
      {"tcp-db", PortProtocol::Tcp},        {"https", PortProtocol::Https},
      {"web", PortProtocol::Unsupported},   {"", PortProtocol::Unsupported},
      {"httpx", PortProtocol::Unsupported}, {"h2c", PortProtocol::Unsupported},
  };
  for (const Case& c : cases) EXPECT_EQ(kubernetes_port_protocol(8080, c.name, ""), c.want) << c.name;
}

TEST(PortProtocolTest, KubernetesAppProtocolReplacesTheName) {
  EXPECT_EQ(kubernetes_port_protocol(80, "http", "kubernetes.io/h2c"), PortProtocol::Http2);
  EXPECT_EQ(kubernetes_port_protocol(80, "web", "grpc"), PortProtocol::Grpc);
  EXPECT_EQ(kubernetes_port_protocol(80, "http2", "kubernetes.io/ws"), PortProtocol::Http);
  // An appProtocol Istio does not know hides the port name.
  EXPECT_EQ(kubernetes_port_protocol(80, "http2", "custom"), PortProtocol::Unsupported);
}

TEST(PortProtocolTest, KubernetesWellKnownPortsAreTcp) {
  EXPECT_EQ(kubernetes_port_protocol(3306, "", ""), PortProtocol::Tcp);
  EXPECT_EQ(kubernetes_port_protocol(3306, "http", ""), PortProtocol::Http);
  EXPECT_EQ(kubernetes_port_protocol(8080, "", ""), PortProtocol::Unsupported);
}

TEST(PortProtocolTest, ServiceEntryUsesTheProtocolFieldOnly) {
  config::ServiceEntry entry;
  ServiceInfo service;
  service.service_entry = &entry;
  ServicePortInfo port{80, "grpc-api", "HTTP", 0, ""};
  EXPECT_EQ(service_port_protocol(service, port), PortProtocol::Http);
  port.protocol = "GRPC-WEB";
  EXPECT_EQ(service_port_protocol(service, port), PortProtocol::GrpcWeb);
  port.protocol = "";
  EXPECT_EQ(service_port_protocol(service, port), PortProtocol::Unsupported);
}

TEST(PortProtocolTest, UpstreamProtocolSelection) {
  config::ConnectionPoolSettings::Http http;
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Http, nullptr), UpstreamProtocol::Http1);
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Unsupported, nullptr), UpstreamProtocol::Http1);
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Http2, nullptr), UpstreamProtocol::Http2);
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Grpc, &http), UpstreamProtocol::Http2);
  EXPECT_EQ(select_upstream_protocol(PortProtocol::GrpcWeb, nullptr), UpstreamProtocol::Http2);

  http.h2_upgrade_policy = "UPGRADE";
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Http, &http), UpstreamProtocol::Http2);
  // Istio upgrades whatever the port: "the user is sure it is an HTTP port".
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Unsupported, &http), UpstreamProtocol::Http2);
  http.h2_upgrade_policy = "DO_NOT_UPGRADE";
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Http, &http), UpstreamProtocol::Http1);
  // DO_NOT_UPGRADE does not downgrade an HTTP/2 port.
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Http2, &http), UpstreamProtocol::Http2);

  http.h2_upgrade_policy = "";
  http.use_client_protocol = true;
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Http, &http), UpstreamProtocol::Downstream);
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Unsupported, &http), UpstreamProtocol::Downstream);
  // The port's HTTP/2 wins over the client's protocol (setUpstreamProtocol runs last).
  EXPECT_EQ(select_upstream_protocol(PortProtocol::Grpc, &http), UpstreamProtocol::Http2);
}

}  // namespace
}  // namespace torii::compile
