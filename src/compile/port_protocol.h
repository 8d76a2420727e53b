// The protocol of a service port and the HTTP version the gateway speaks to
// it (ISTIO_SEMANTICS §4.4):
//
// * a Kubernetes Service port: `appProtocol` when set (kubernetes.io/h2c is
//   HTTP2), else the port name's prefix before the first `-` (`grpc-web`
//   as a whole first), as Istio's ConvertProtocol
//   (pkg/config/kube/conversion.go); well-known ports 25/53/3306/27017
//   without a known name are TCP;
// * a ServiceEntry port: its `protocol` field (protocol.Parse);
// * the upstream speaks HTTP/2 when the port protocol is HTTP2, GRPC or
//   GRPC-Web (setUpstreamProtocol), or when the DestinationRule says
//   `h2UpgradePolicy: UPGRADE` (ctp.go shouldH2Upgrade: on any port, as
//   "the user is sure it is an HTTP port"); `useClientProtocol` makes it
//   follow the client, unless the port is HTTP/2 already (setUpstreamProtocol
//   runs after the traffic policy and wins) and it turns the upgrade off.
//   The mesh-wide h2UpgradePolicy is DO_NOT_UPGRADE (there is no mesh here).
//
// Pure functions; tests/compile/port_protocol_test.cc.
#pragma once

#include <string_view>

#include "compile/service_registry.h"
#include "config/traffic_policy.h"
#include "upstream/cluster_policy.h"

namespace torii::compile {

enum class PortProtocol {
  Unsupported,  // unknown or unnamed: HTTP/1.1 at a gateway (no sniffing)
  Http,
  Http2,
  Grpc,
  GrpcWeb,
  HttpProxy,
  Https,
  Tls,
  Tcp,
  Udp,
  Mongo,
  Redis,
  Mysql,
};

// Istio's protocol.Parse (case-insensitive).
PortProtocol parse_port_protocol(std::string_view name);
// Istio's ConvertProtocol for a Kubernetes Service port.
PortProtocol kubernetes_port_protocol(uint32_t port, std::string_view name, std::string_view app_protocol);
// The protocol of `port` of `service` (Kubernetes Service or ServiceEntry).
PortProtocol service_port_protocol(const ServiceInfo& service, const ServicePortInfo& port);

// HTTP2, GRPC, GRPC-Web (protocol.IsHTTP2).
bool is_http2(PortProtocol protocol);

// The cluster's upstream HTTP version. `http`: the merged DestinationRule's
// connectionPool.http (null: none).
upstream::UpstreamProtocol select_upstream_protocol(PortProtocol port,
                                                    const config::ConnectionPoolSettings::Http* http);

}  // namespace torii::compile
