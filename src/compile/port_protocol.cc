#include "compile/port_protocol.h"

#include <strings.h>

namespace torii::compile {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

PortProtocol parse_port_protocol(std::string_view name) {
  struct Known {
    std::string_view name;
    PortProtocol protocol;
  };
  static constexpr Known kKnown[] = {
      {"tcp", PortProtocol::Tcp},     {"udp", PortProtocol::Udp},
      {"grpc", PortProtocol::Grpc},   {"grpc-web", PortProtocol::GrpcWeb},
      {"http", PortProtocol::Http},   {"http_proxy", PortProtocol::HttpProxy},
      {"http2", PortProtocol::Http2}, {"https", PortProtocol::Https},
      {"tls", PortProtocol::Tls},     {"mongo", PortProtocol::Mongo},
      {"redis", PortProtocol::Redis}, {"mysql", PortProtocol::Mysql},
  };
  for (const Known& k : kKnown) {
    if (iequals(name, k.name)) return k.protocol;
  }
  return PortProtocol::Unsupported;
}

PortProtocol kubernetes_port_protocol(uint32_t port, std::string_view name, std::string_view app_protocol) {
  if (!app_protocol.empty()) {
    // appProtocol replaces the name; Kubernetes' own standard names first.
    if (app_protocol == "kubernetes.io/h2c") return PortProtocol::Http2;
    if (app_protocol == "kubernetes.io/ws") return PortProtocol::Http;
    if (app_protocol == "kubernetes.io/wss") return PortProtocol::Https;
    name = app_protocol;
  }
  // "grpc-web" holds a '-': checked before the prefix cut.
  if (istarts_with(name, "grpc-web")) return PortProtocol::GrpcWeb;
  const size_t dash = name.find('-');
  PortProtocol p = parse_port_protocol(dash == std::string_view::npos ? name : name.substr(0, dash));
  if (p == PortProtocol::Unsupported && (port == 25 || port == 53 || port == 3306 || port == 27017))
    return PortProtocol::Tcp;
  return p;
}

PortProtocol service_port_protocol(const ServiceInfo& service, const ServicePortInfo& port) {
  if (service.k8s_service != nullptr) return kubernetes_port_protocol(port.number, port.name, port.protocol);
  return parse_port_protocol(port.protocol);
}

bool is_http2(PortProtocol protocol) {
  return protocol == PortProtocol::Http2 || protocol == PortProtocol::Grpc ||
         protocol == PortProtocol::GrpcWeb;
}

upstream::UpstreamProtocol select_upstream_protocol(PortProtocol port,
                                                    const config::ConnectionPoolSettings::Http* http) {
  using upstream::UpstreamProtocol;
  if (is_http2(port)) return UpstreamProtocol::Http2;
  if (http == nullptr) return UpstreamProtocol::Http1;
  if (http->use_client_protocol) return UpstreamProtocol::Downstream;
  if (http->h2_upgrade_policy == "UPGRADE") return UpstreamProtocol::Http2;
  return UpstreamProtocol::Http1;
}

}  // namespace torii::compile
