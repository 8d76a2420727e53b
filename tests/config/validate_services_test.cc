// DestinationRule, ServiceEntry, WorkloadEntry and Service validation rules.
#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::no_errors;
using testing::rejected;

LoadResult dr(std::string_view spec) { return testing::load_istio("DestinationRule", spec); }
LoadResult se(std::string_view spec) { return testing::load_istio("ServiceEntry", spec); }
LoadResult we(std::string_view spec) { return testing::load_istio("WorkloadEntry", spec); }
LoadResult service(std::string_view spec) { return testing::load(testing::object("v1", "Service", spec)); }

TEST(ValidateLabelsTest, AsIstiodLabelsValidate) {
  // Values of any length and long prefix labels pass, as in istiod (the name stays <= 63).
  EXPECT_TRUE(no_errors(dr("host: a\nsubsets: [{name: v1, labels: {k: " + std::string(100, 'v') + "}}]\n")));
  EXPECT_TRUE(
      no_errors(dr("host: a\nsubsets: [{name: v1, labels: {" + std::string(70, 'p') + ".io/k: v}}]\n")));
  EXPECT_TRUE(has_error(dr("host: a\nsubsets: [{name: v1, labels: {" + std::string(64, 'k') + ": v}}]\n"),
                        "spec.subsets[0].labels", "invalid tag key"));
}

TEST(ValidateDestinationRuleTest, Host) {
  EXPECT_TRUE(no_errors(dr("host: reviews\n")));
  EXPECT_TRUE(no_errors(dr("host: \"*.example.com\"\n")));
  EXPECT_TRUE(has_error(dr("subsets: []\n"), "spec.host", "empty domain name not allowed"));
  EXPECT_TRUE(rejected(dr("host: \"bad host\"\n")));
}

TEST(ValidateDestinationRuleTest, Subsets) {
  EXPECT_TRUE(no_errors(dr("host: a\nsubsets: [{name: v1, labels: {version: v1}}, {name: all}]\n")));
  EXPECT_TRUE(has_error(dr("host: a\nsubsets: [{name: v1}, {name: v1}]\n"), "spec.subsets[1].name",
                        "duplicate subset names: v1"));
  EXPECT_TRUE(has_error(dr("host: a\nsubsets: [{name: v1.2}]\n"), "spec.subsets[0].name",
                        "subset name is invalid: v1.2"));
  EXPECT_TRUE(has_error(dr("host: a\nsubsets: [{labels: {a: b}}]\n"), "spec.subsets[0].name",
                        "subset name cannot be empty"));
  EXPECT_TRUE(has_error(dr("host: a\nsubsets: [{name: v1, labels: {version: \"not valid!\"}}]\n"),
                        "spec.subsets[0].labels", "invalid tag value: \"not valid!\""));
}

TEST(ValidateDestinationRuleTest, ExportTo) {
  EXPECT_TRUE(
      has_error(dr("host: a\nexportTo: [\"~\"]\n"), "spec.exportTo[0]", "exportTo ~ (none) is not allowed"));
}

TEST(ValidateServiceEntryTest, Valid) {
  const LoadResult r = se(R"(hosts: [api.example.com]
ports: [{number: 443, name: https, protocol: TLS}]
resolution: DNS
)");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(r.diagnostics.empty()) << testing::dump(r.diagnostics);
}

TEST(ValidateServiceEntryTest, Hosts) {
  EXPECT_TRUE(has_error(se("ports: [{number: 80, name: http, protocol: HTTP}]\n"), "spec.hosts",
                        "service entry must have at least one host"));
  EXPECT_TRUE(has_error(se("hosts: [\"*\"]\n"), "spec.hosts[0]", "invalid host *"));
  EXPECT_TRUE(has_error(se("hosts: [\"a..com\"]\n"), "spec.hosts[0]", "invalid"));
  const LoadResult partial = se("hosts: [\"*api.example.com\"]\n");
  EXPECT_TRUE(no_errors(partial));
  EXPECT_TRUE(has_warning(partial, "spec.hosts[0]", "partial wildcard"));
}

TEST(ValidateServiceEntryTest, Resolution) {
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nresolution: MAGIC\n"), "spec.resolution",
                        "unsupported resolution type MAGIC"));
  EXPECT_TRUE(no_errors(se("hosts: [a.com]\nresolution: dns_round_robin\n")));
  // DYNAMIC_DNS (Envoy's dynamic forward proxy): istiod's rules, then a warning, as Torii
  // does not implement it (it used to reject the object).
  const LoadResult dynamic =
      se("hosts: [\"*.example.com\"]\nresolution: DYNAMIC_DNS\nports: [{number: 443, name: tls, protocol: "
         "TLS}]\n");
  EXPECT_TRUE(no_errors(dynamic));
  EXPECT_TRUE(has_warning(dynamic, "spec.resolution", "resolution DYNAMIC_DNS is not implemented by Torii"));
  EXPECT_TRUE(has_error(se("hosts: [a.example.com]\nresolution: DYNAMIC_DNS\n"), "spec.hosts[0]",
                        "host must be wildcarded for resolution mode DYNAMIC_DNS"));
  EXPECT_TRUE(has_error(se("hosts: [\"*.a.com\"]\nresolution: DYNAMIC_DNS\naddresses: [10.0.0.1]\n"),
                        "spec.addresses", "addresses cannot be set for resolution type DYNAMIC_DNS"));
  EXPECT_TRUE(
      has_error(se("hosts: [\"*.a.com\"]\nresolution: DYNAMIC_DNS\nendpoints: [{address: 10.0.0.1}]\n"),
                "spec.endpoints", "endpoints cannot be set for resolution type DYNAMIC_DNS"));
  EXPECT_TRUE(has_error(se("hosts: [\"*.a.com\"]\nresolution: DYNAMIC_DNS\nports: [{number: 1, name: t, "
                           "protocol: TCP}]\n"),
                        "spec.ports[0].protocol", "only HTTP, TLS, GRPC, and HTTP2 protocols are supported"));
  // No partial-wildcard warning for DYNAMIC_DNS, as in istiod.
  EXPECT_FALSE(has_warning(se("hosts: [\"*api.a.com\"]\nresolution: DYNAMIC_DNS\n"), "spec.hosts[0]",
                           "partial wildcard"));
  EXPECT_TRUE(
      has_error(se("hosts: [a.com]\nlocation: OUTSIDE\n"), "spec.location", "invalid location \"OUTSIDE\""));
}

TEST(ValidateServiceEntryTest, PortsUnique) {
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nports: [{number: 80, name: http, protocol: HTTP}, {number: 81, "
                           "name: http, protocol: HTTP}]\n"),
                        "spec.ports[1].name", "service entry port name \"http\" already defined"));
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nports: [{number: 80, name: a, protocol: HTTP}, {number: 80, "
                           "name: b, protocol: HTTP}]\n"),
                        "spec.ports[1].number", "service entry port 80 already defined"));
}

TEST(ValidateServiceEntryTest, PortFields) {
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nports: [{number: 0, name: a}]\n"), "spec.ports[0].number",
                        "port number 0"));
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nports: [{number: 80, name: A_B}]\n"), "spec.ports[0].name",
                        "invalid port name: A_B"));
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nports: [{number: 80, name: a, protocol: QUIC}]\n"),
                        "spec.ports[0].protocol", "unsupported protocol: QUIC"));
  EXPECT_TRUE(no_errors(se("hosts: [a.com]\nports: [{number: 80, name: a}]\n")));  // "" = sniffing
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nresolution: DNS\nports: [{number: 80, name: a, protocol: HTTP, "
                           "targetPort: 70000}]\n"),
                        "spec.ports[0].targetPort", "port number 70000"));
  EXPECT_TRUE(
      has_warning(se("hosts: [a.com]\nports: [{number: 80, name: a, protocol: HTTP, targetPort: 8080}]\n"),
                  "spec.ports[0].targetPort", "targetPort has no effect when resolution mode is NONE"));
}

TEST(ValidateServiceEntryTest, WorkloadSelectorOrEndpoints) {
  EXPECT_TRUE(has_error(se(R"(hosts: [a.com]
resolution: STATIC
workloadSelector: {labels: {app: a}}
endpoints: [{address: 10.0.0.1}]
)"),
                        "spec", "only one of WorkloadSelector or Endpoints is allowed in Service Entry"));
  EXPECT_TRUE(
      has_error(se("hosts: [a.com]\nresolution: STATIC\nworkloadSelector: {labels: {\"app\": \"*\"}}\n"),
                "spec.workloadSelector.labels", "wildcard is not supported in selector: \"app=*\""));
  EXPECT_TRUE(has_warning(se("hosts: [a.com]\nresolution: STATIC\nworkloadSelector: {labels: {}}\n"),
                          "spec.workloadSelector.labels", "workload selector specified without labels"));
}

TEST(ValidateServiceEntryTest, NoneResolutionRejectsEndpoints) {
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nendpoints: [{address: 10.0.0.1}]\n"), "spec.endpoints",
                        "no endpoints should be provided for resolution type none"));
  EXPECT_TRUE(has_warning(se("hosts: [a.com]\nworkloadSelector: {labels: {app: a}}\n"),
                          "spec.workloadSelector",
                          "workloadSelector should not be set when resolution mode is NONE"));
}

TEST(ValidateServiceEntryTest, StaticEndpointsMustBeIpsOrUnix) {
  EXPECT_TRUE(no_errors(se(
      "hosts: [a.com]\nresolution: STATIC\nendpoints: [{address: 10.0.0.1}, {address: \"2001:db8::1\"}]\n")));
  EXPECT_TRUE(has_error(
      se("hosts: [a.com]\nresolution: STATIC\nendpoints: [{address: backend.example.com}]\n"),
      "spec.endpoints[0].address", "endpoint address \"backend.example.com\" is not a valid IP address"));
  EXPECT_TRUE(
      no_errors(se("hosts: [a.com]\nresolution: STATIC\nports: [{number: 80, name: http, protocol: HTTP}]\n"
                   "endpoints: [{address: \"unix:///var/run/app.sock\"}]\n")));
  EXPECT_TRUE(
      has_error(se("hosts: [a.com]\nresolution: STATIC\nports: [{number: 80, name: http, protocol: HTTP}]\n"
                   "endpoints: [{address: \"unix:///var/run/app.sock\", ports: {http: 81}}]\n"),
                "spec.endpoints[0].ports", "unix endpoint unix:///var/run/app.sock must not include ports"));
}

TEST(ValidateServiceEntryTest, EndpointPortNamesMustExist) {
  EXPECT_TRUE(
      has_error(se("hosts: [a.com]\nresolution: STATIC\nports: [{number: 80, name: http, protocol: HTTP}]\n"
                   "endpoints: [{address: 10.0.0.1, ports: {grpc: 9000}}]\n"),
                "spec.endpoints[0].ports[grpc]", "endpoint port 9000 is not defined by the service entry"));
  EXPECT_TRUE(
      has_error(se("hosts: [a.com]\nresolution: DNS\nports: [{number: 80, name: http, protocol: HTTP}]\n"
                   "endpoints: [{address: b.com, ports: {grpc: 9000}}]\n"),
                "spec.endpoints[0].ports[grpc]", "endpoint port 9000 is not defined by the service entry"));
}

TEST(ValidateServiceEntryTest, DnsRules) {
  EXPECT_TRUE(
      has_error(se("hosts: [\"*.a.com\"]\nresolution: DNS\n"), "spec.hosts[0]",
                "hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for "
                "resolution mode DNS, domain name \"*.a.com\" invalid"));
  EXPECT_TRUE(has_error(
      se("hosts: [a.com]\nresolution: DNS_ROUND_ROBIN\nendpoints: [{address: b.com}, {address: c.com}]\n"),
      "spec.endpoints", "there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN"));
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nresolution: DNS\nendpoints: [{address: \"not a host\"}]\n"),
                        "spec.endpoints[0].address", "is not a valid FQDN or an IP address"));
}

TEST(ValidateServiceEntryTest, MultipleHostsNeedHttpOrTlsPorts) {
  EXPECT_TRUE(has_error(
      se("hosts: [a.com, b.com]\nresolution: DNS\nports: [{number: 5432, name: pg, protocol: TCP}]\n"),
      "spec.ports", "multiple hosts provided with non-HTTP, non-TLS ports"));
  EXPECT_TRUE(no_errors(
      se("hosts: [a.com, b.com]\nresolution: DNS\nports: [{number: 443, name: tls, protocol: TLS}]\n")));
  EXPECT_TRUE(no_errors(se("hosts: [a.com, b.com]\nports: [{number: 5432, name: pg, protocol: TCP}]\n")));
}

TEST(ValidateServiceEntryTest, Addresses) {
  EXPECT_TRUE(has_error(se("hosts: [a.com]\naddresses: [not-an-ip]\n"), "spec.addresses[0]",
                        "not-an-ip is not a valid IP"));
  EXPECT_TRUE(has_error(se("hosts: [a.com]\naddresses: [10.0.0.0/33]\n"), "spec.addresses[0]",
                        "is not a valid CIDR block"));
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nresolution: DNS\naddresses: [10.0.0.0/24]\n"), "spec.addresses",
                        "CIDR addresses are allowed only for NONE/STATIC resolution types"));
  EXPECT_TRUE(no_errors(se("hosts: [a.com]\naddresses: [10.0.0.0/24, \"2001:db8::/32\"]\n")));
}

TEST(ValidateServiceEntryTest, ExportToMayBeNobody) {
  EXPECT_TRUE(no_errors(se("hosts: [a.com]\nexportTo: [\"~\"]\n")));
  EXPECT_TRUE(has_error(se("hosts: [a.com]\nexportTo: [\"~\", other]\n"), "spec.exportTo",
                        "cannot export service entry to no one (~) and someone"));
}

TEST(ValidateWorkloadEntryTest, AddressRequired) {
  EXPECT_TRUE(has_error(we("labels: {app: a}\n"), "spec.address", "address is required"));
  const LoadResult r = we("network: remote\n");
  EXPECT_TRUE(no_errors(r));
  EXPECT_TRUE(has_warning(r, "spec.address", "address is unset with network \"remote\""));
}

TEST(ValidateWorkloadEntryTest, AddressForms) {
  EXPECT_TRUE(no_errors(we("address: 10.0.0.1\n")));
  EXPECT_TRUE(no_errors(we("address: vm.example.com\n")));
  EXPECT_TRUE(
      has_error(we("address: \"bad address\"\n"), "spec.address", "is not a valid FQDN or an IP address"));
  EXPECT_TRUE(has_error(we("address: \"unix://\"\n"), "spec.address", "unix address must not be empty"));
}

TEST(ValidateWorkloadEntryTest, PortsAndLabels) {
  EXPECT_TRUE(has_error(we("address: 10.0.0.1\nports: {http: 0}\n"), "spec.ports[http]", "port number 0"));
  EXPECT_TRUE(has_error(we("address: 10.0.0.1\nports: {Bad_Name: 80}\n"), "spec.ports[Bad_Name]",
                        "invalid port name"));
  EXPECT_TRUE(has_error(we("address: 10.0.0.1\nlabels: {\"-bad\": x}\n"), "spec.labels",
                        "invalid tag key: \"-bad\""));
  EXPECT_TRUE(no_errors(we("address: 10.0.0.1\nlabels: {app.kubernetes.io/name: web, empty: \"\"}\n")));
}

TEST(ValidateServiceTest, Ports) {
  EXPECT_TRUE(has_error(service("ports: [{port: 0}]\n"), "spec.ports[0].port",
                        "port number 0 must be in the range 1..65535"));
  EXPECT_TRUE(has_error(service("ports: [{port: 80, targetPort: 70000}]\n"), "spec.ports[0].targetPort",
                        "port number 70000"));
  EXPECT_TRUE(has_error(service("ports: [{port: 80}, {port: 81, name: b}]\n"), "spec.ports[0].name",
                        "port name is required when a Service has more than one port"));
  EXPECT_TRUE(has_error(service("ports: [{port: 80, name: a}, {port: 81, name: a}]\n"), "spec.ports[1].name",
                        "duplicate port name \"a\""));
  EXPECT_TRUE(has_error(service("ports: [{port: 80, targetPort: \"not_a_name\"}]\n"),
                        "spec.ports[0].targetPort", "invalid port name"));
}

TEST(ValidateServiceTest, Type) {
  EXPECT_TRUE(has_error(service("type: Magic\n"), "spec.type", "unsupported type \"Magic\""));
  EXPECT_TRUE(has_error(service("type: ExternalName\n"), "spec.externalName", "externalName is required"));
}

}  // namespace
}  // namespace torii::config
