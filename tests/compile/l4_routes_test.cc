// Layer-4 listeners: TCP and TLS PASSTHROUGH servers, VirtualService tcp/tls
// routes (compile/l4_route_builder.h) and the filter chain a connection gets
// (Listener::filter_chain_for).
#include <gtest/gtest.h>

#include "compile/compiler.h"
#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

config::Server passthrough(uint32_t port, std::vector<std::string> hosts) {
  config::Server s = server(port, std::move(hosts), "TLS", "tls-" + std::to_string(port));
  s.tls = config::ServerTLSSettings{};
  s.tls->mode = "PASSTHROUGH";
  return s;
}

config::L4MatchAttributes l4_match(std::vector<std::string> sni, uint32_t port = 0) {
  config::L4MatchAttributes m;
  m.sni_hosts = std::move(sni);
  m.port = port;
  return m;
}

config::L4Route l4_rule(std::vector<config::L4MatchAttributes> match,
                        std::vector<std::pair<std::string, int32_t>> destinations) {
  config::L4Route r;
  r.match = std::move(match);
  for (auto& [host, weight] : destinations) {
    config::RouteDestination d;
    d.has_destination = true;
    d.destination.host = host;
    d.weight = weight;
    r.route.push_back(d);
  }
  return r;
}

void add_external(Resources& r, const std::string& host, uint32_t port, const std::string& protocol = "TLS") {
  config::Port p;
  p.number = port;
  p.name = "p";
  p.protocol = protocol;
  auto& se = r.service_entry("default", host, {host}, {p});
  config::WorkloadEntry e;
  e.address = "10.0.0.1";
  se.endpoints.push_back(e);
}

TEST(L4Routes, TlsMatchesBecomeSniChainsInOrder) {
  Resources r;
  add_external(r, "a.example.test", 443);
  add_external(r, "b.example.test", 443);
  r.gateway("istio-system", "gw", {passthrough(443, {"*.example.test"})});
  auto& vs = r.virtual_service("default", "sni", {"*.example.test"}, {"istio-system/gw"}, {});
  vs.tls.push_back(l4_rule({l4_match({"a.example.test"}, 443)}, {{"a.example.test", 0}}));
  vs.tls.push_back(l4_rule({l4_match({"b.example.test", "*.b.example.test"})}, {{"b.example.test", 0}}));
  vs.tls.push_back(l4_rule({l4_match({"c.example.test"}, 8443)}, {{"b.example.test", 0}}));  // other port
  Compiled c(r.set);
  const Listener* l = c.listener("0.0.0.0_443");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->l4);
  EXPECT_TRUE(l->inspect_sni);
  EXPECT_EQ(l->protocol, "TLS");
  ASSERT_EQ(l->l4_routes.size(), 2u);
  EXPECT_EQ(l->l4_routes[0].server_names, std::vector<std::string>{"a.example.test"});
  EXPECT_EQ(l->l4_routes[0].clusters.at(0).name, "outbound|443||a.example.test");
  ASSERT_NE(l->l4_routes[0].clusters.at(0).cluster, nullptr);

  EXPECT_EQ(l->filter_chain_for("a.example.test").l4, &l->l4_routes[0]);
  EXPECT_EQ(l->filter_chain_for("x.b.example.test").l4, &l->l4_routes[1]);
  EXPECT_EQ(l->filter_chain_for("c.example.test").l4, nullptr);
  EXPECT_EQ(l->filter_chain_for("").l4, nullptr);
}

TEST(L4Routes, DuplicateSniHostIsSkippedWithAWarning) {
  Resources r;
  add_external(r, "a.example.test", 443);
  r.gateway("istio-system", "gw", {passthrough(443, {"*"})});
  auto& first = r.virtual_service("default", "first", {"a.example.test"}, {"istio-system/gw"}, {});
  first.tls.push_back(l4_rule({l4_match({"a.example.test"})}, {{"a.example.test", 0}}));
  auto& second = r.virtual_service("default", "second", {"a.example.test"}, {"istio-system/gw"}, {});
  second.tls.push_back(l4_rule({l4_match({"a.example.test"})}, {{"a.example.test", 0}}));
  Compiled c(r.set);
  ASSERT_EQ(c.listener("0.0.0.0_443")->l4_routes.size(), 1u);
  EXPECT_EQ(c.listener("0.0.0.0_443")->l4_routes[0].virtual_service, "default/first");
  bool warned = false;
  for (const auto& d : c.result.diagnostics)
    warned = warned || (d.name == "second" && d.message.find("duplicate SNI host") != std::string::npos);
  EXPECT_TRUE(warned);
}

TEST(L4Routes, TcpServerTakesTheFirstMatchingRuleWithWeights) {
  Resources r;
  add_external(r, "db-a.test", 5432, "TCP");
  add_external(r, "db-b.test", 5432, "TCP");
  r.gateway("istio-system", "gw", {server(5432, {"*"}, "TCP", "tcp")});
  auto& vs = r.virtual_service("default", "db", {"*"}, {"istio-system/gw"}, {});
  config::L4MatchAttributes other_port;
  other_port.port = 1234;
  vs.tcp.push_back(l4_rule({other_port}, {{"db-b.test", 0}}));
  config::L4MatchAttributes subnet;
  subnet.destination_subnets = {"10.0.0.0/8"};  // not evaluated at gateways
  vs.tcp.push_back(l4_rule({subnet}, {{"db-a.test", 75}, {"db-b.test", 25}}));
  vs.tcp.push_back(l4_rule({}, {{"db-b.test", 0}}));
  Compiled c(r.set);
  const Listener* l = c.listener("0.0.0.0_5432");
  ASSERT_NE(l, nullptr);
  EXPECT_FALSE(l->inspect_sni);
  EXPECT_EQ(l->protocol, "TCP");
  ASSERT_EQ(l->l4_routes.size(), 1u);
  const router::L4Route& route = l->l4_routes[0];
  EXPECT_EQ(route.rule_index, 1);
  EXPECT_TRUE(route.server_names.empty());
  ASSERT_EQ(route.clusters.size(), 2u);
  EXPECT_EQ(route.total_weight, 100u);
  EXPECT_EQ(route.clusters[0].name, "outbound|5432||db-a.test");
  // Any connection (TLS or not, any SNI) takes the one TCP chain.
  EXPECT_EQ(l->filter_chain_for("").l4, &route);
  EXPECT_EQ(l->filter_chain_for("whatever.test").l4, &route);
  bool warned = false;
  for (const auto& d : c.result.diagnostics)
    warned = warned || d.field == "spec.tcp[1].match[0].destinationSubnets";
  EXPECT_TRUE(warned);
}

TEST(L4Routes, TcpServerWithoutRouteHasNoChainAndWarns) {
  Resources r;
  r.gateway("istio-system", "gw", {server(9000, {"*"}, "TCP", "tcp")});
  Compiled c(r.set);
  const Listener* l = c.listener("0.0.0.0_9000");
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->l4);
  EXPECT_TRUE(l->l4_routes.empty());
  EXPECT_EQ(l->filter_chain_for("").l4, nullptr);
  bool warned = false;
  for (const auto& d : c.result.diagnostics)
    warned = warned || d.message.find("no VirtualService tcp route") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(L4Routes, VsHostsMustOverlapTheServerHosts) {
  Resources r;
  add_external(r, "a.example.test", 443);
  r.gateway("istio-system", "gw", {passthrough(443, {"*.example.test"})});
  auto& vs = r.virtual_service("default", "elsewhere", {"a.other.test"}, {"istio-system/gw"}, {});
  vs.tls.push_back(l4_rule({l4_match({"a.other.test"})}, {{"a.example.test", 0}}));
  Compiled c(r.set);
  EXPECT_TRUE(c.listener("0.0.0.0_443")->l4_routes.empty());
}

}  // namespace
}  // namespace torii::compile
