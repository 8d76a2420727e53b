// VirtualService `tls:` and `tcp:` routes: parsing and istiod's validation
// messages (validate_l4_routes.cc).
#include <gtest/gtest.h>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::has_error;
using testing::has_warning;
using testing::no_errors;

LoadResult vs(std::string_view spec) { return testing::load_istio("VirtualService", spec, "vs"); }

TEST(L4RoutesTest, ParsesTlsAndTcpRoutes) {
  const LoadResult r = vs(R"(hosts: ["*.example.test"]
gateways: [istio-system/gw]
tls:
- match:
  - sniHosts: [a.example.test, "*.b.example.test"]
    port: 443
    destinationSubnets: [10.0.0.0/8]
    gateways: [istio-system/gw]
  route:
  - {destination: {host: a.example.test, port: {number: 8443}, subset: v1}, weight: 70}
  - {destination: {host: b.example.test}, weight: 30}
tcp:
- match: [{port: 9000, sourceLabels: {app: x}}]
  route: [{destination: {host: db.example.test, port: {number: 5432}}}]
)");
  ASSERT_TRUE(no_errors(r));
  const VirtualService v = r.resources().virtual_services.at(0);
  EXPECT_TRUE(v.has_tls);
  EXPECT_TRUE(v.has_tcp);
  ASSERT_EQ(v.tls.size(), 1u);
  const L4MatchAttributes& m = v.tls[0].match.at(0);
  EXPECT_EQ(m.sni_hosts, (std::vector<std::string>{"a.example.test", "*.b.example.test"}));
  EXPECT_EQ(m.port, 443u);
  EXPECT_EQ(m.destination_subnets, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(m.gateways, std::vector<std::string>{"istio-system/gw"});
  ASSERT_EQ(v.tls[0].route.size(), 2u);
  EXPECT_EQ(v.tls[0].route[0].destination.port.number, 8443u);
  EXPECT_EQ(v.tls[0].route[0].destination.subset, "v1");
  EXPECT_EQ(v.tls[0].route[0].weight, 70);
  ASSERT_EQ(v.tcp.size(), 1u);
  EXPECT_EQ(v.tcp[0].match.at(0).port, 9000u);
  EXPECT_EQ(v.tcp[0].match.at(0).source_labels.at("app"), "x");
  EXPECT_EQ(v.tcp[0].route.at(0).destination.host, "db.example.test");
}

TEST(L4RoutesTest, TlsRouteNeedsMatchAndSniHosts) {
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntls:\n- route: [{destination: {host: a}}]\n"),
                        "spec.tls[0].match", "TLS route must have at least one match condition"));
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntls:\n- match: [{port: 443}]\n"
                           "  route: [{destination: {host: a}}]\n"),
                        "spec.tls[0].match[0].sniHosts", "TLS match must have at least one SNI host"));
}

TEST(L4RoutesTest, SniHostsMustBeASubsetOfTheHosts) {
  EXPECT_TRUE(has_error(vs("hosts: [\"*.example.test\"]\ntls:\n- match: [{sniHosts: [a.other.test]}]\n"
                           "  route: [{destination: {host: a}}]\n"),
                        "spec.tls[0].match[0].sniHosts[0]",
                        "SNI host \"a.other.test\" is not a compatible subset of any of the virtual service "
                        "hosts: [*.example.test]"));
  EXPECT_TRUE(
      no_errors(vs("hosts: [\"*.example.test\"]\ntls:\n- match: [{sniHosts: [\"*.a.example.test\"]}]\n"
                   "  route: [{destination: {host: a}}]\n")));
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntls:\n- match: [{sniHosts: [\"bad..name\"]}]\n"
                           "  route: [{destination: {host: a}}]\n"),
                        "spec.tls[0].match[0].sniHosts[0]", "invalid"));
  EXPECT_TRUE(has_warning(vs("hosts: [\"*\"]\ngateways: [gw]\ntls:\n- match: [{sniHosts: [10.0.0.1]}]\n"
                             "  route: [{destination: {host: a}}]\n"),
                          "spec.tls[0].match[0].sniHosts[0]", "goes against SNI spec"));
}

TEST(L4RoutesTest, RoutesNeedDestinationsAndWeights) {
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntcp:\n- match: [{port: 9000}]\n"), "spec.tcp[0].route",
                        "TCP route is required"));
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntls:\n- match: [{sniHosts: [a.example.test]}]\n"),
                        "spec.tls[0].route", "TLS route is required"));
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntcp:\n- route: [{weight: 10}]\n"),
                        "spec.tcp[0].route[0]", "destination is required"));
  EXPECT_TRUE(
      has_error(vs("hosts: [a.example.test]\ntcp:\n- route: [{destination: {host: a}, weight: -1}]\n"),
                "spec.tcp[0].route[0].weight", "weight -1 < 0"));
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntcp:\n- route:\n  - {destination: {host: a}}\n"
                           "  - {destination: {host: b}}\n"),
                        "spec.tcp[0].route", "total destination weight = 0"));
  EXPECT_TRUE(has_error(vs("hosts: [a.example.test]\ntcp:\n- route: [{destination: {host: \"*\"}}]\n"),
                        "spec.tcp[0].route[0].destination.host", "invalid destination host *"));
}

TEST(L4RoutesTest, MatchFieldsAreChecked) {
  const LoadResult r = vs(R"(hosts: [a.example.test]
tcp:
- match:
  - port: 70000
    destinationSubnets: [10.0.0.0/33, not-an-ip]
    gateways: ["bad/gw/name"]
  route: [{destination: {host: a}}]
)");
  EXPECT_TRUE(has_error(r, "spec.tcp[0].match[0].port", ""));
  EXPECT_TRUE(has_error(r, "spec.tcp[0].match[0].destinationSubnets[0]", ""));
  EXPECT_TRUE(has_error(r, "spec.tcp[0].match[0].destinationSubnets[1]", ""));
  EXPECT_TRUE(has_error(r, "spec.tcp[0].match[0].gateways[0]", ""));
}

TEST(L4RoutesTest, TcpOnlyVirtualServiceIsValid) {
  EXPECT_TRUE(no_errors(vs("hosts: [\"*\"]\ngateways: [gw]\ntcp:\n- route: [{destination: {host: a}}]\n")));
}

}  // namespace
}  // namespace torii::config
