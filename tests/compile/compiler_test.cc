// compile(): listeners, Gateway selection, shared route tables, blackhole,
// httpsRedirect (ISTIO_SEMANTICS §0, §2.3, §3.15, §4.6).
#include "compile/compiler.h"

#include <gtest/gtest.h>

#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

void add_services(Resources& r) {
  r.service("default", "httpbin", {service_port("http", 8000)});
  r.service("default", "other", {service_port("http", 8000)});
}

TEST(Compiler, EmptyResourcesGiveAnEmptySnapshot) {
  Resources r;
  Compiled c(r.set);
  EXPECT_TRUE(c.snapshot().listeners.empty());
  EXPECT_TRUE(c.snapshot().clusters.empty());
  EXPECT_EQ(c.snapshot().version, 0u);  // set by the publisher
  EXPECT_TRUE(c.result.diagnostics.empty());
}

TEST(Compiler, GatewaySelectionByLabels) {
  Resources r;
  add_services(r);
  r.gateway("istio-system", "ingress", {server(80, {"*"})}, {{"istio", "ingressgateway"}});
  r.gateway("istio-system", "egress", {server(81, {"*"})}, {{"istio", "egressgateway"}});
  GatewayIdentity identity;  // istio=ingressgateway
  Compiled c(r.set, identity);
  ASSERT_EQ(c.snapshot().listeners.size(), 1u);
  EXPECT_EQ(c.snapshot().listeners[0].name, "0.0.0.0_80");

  identity.labels = {{"istio", "egressgateway"}};
  Compiled egress(r.set, identity);
  ASSERT_EQ(egress.snapshot().listeners.size(), 1u);
  EXPECT_EQ(egress.snapshot().listeners[0].name, "0.0.0.0_81");
}

TEST(Compiler, ListenerDescribesItsServers) {
  Resources r;
  config::Server s = server(80, {"./a.com", "*/b.com"});
  s.tls = config::ServerTLSSettings{};
  s.tls->https_redirect = true;
  r.gateway("app", "gw", {s});
  GatewayIdentity identity;
  identity.port_map = {{80, 8080}};
  identity.bind = "127.0.0.1";
  Compiled c(r.set, identity);
  const Listener* l = c.listener("127.0.0.1_8080");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->bind, "127.0.0.1");
  EXPECT_EQ(l->gateway_port, 80u);
  EXPECT_EQ(l->listen_port, 8080u);
  EXPECT_EQ(l->protocol, "HTTP");
  ASSERT_EQ(l->servers.size(), 1u);
  EXPECT_EQ(l->servers[0].gateway, "app/gw");
  EXPECT_EQ(l->servers[0].port_name, "http-80");
  EXPECT_EQ(l->servers[0].protocol, "HTTP");
  EXPECT_EQ(l->servers[0].hosts, (std::vector<std::string>{"app/a.com", "b.com"}));
  EXPECT_TRUE(l->servers[0].https_redirect);
}

TEST(Compiler, NoVirtualServiceMeansABlackholeStarVirtualHost) {
  // §0.6: one `*` virtual host without routes => 404 for everything.
  Resources r;
  r.gateway("istio-system", "gw", {server(80, {"a.com"})});
  Compiled c(r.set);
  const auto& vhosts = c.listener()->routes->virtual_hosts();
  ASSERT_EQ(vhosts.size(), 1u);
  EXPECT_EQ(vhosts[0]->domain, "*");
  EXPECT_TRUE(vhosts[0]->routes.empty());
  EXPECT_EQ(c.cluster(Request("a.com", "/")), "404");
  EXPECT_EQ(c.cluster(Request("anything", "/")), "404");
}

TEST(Compiler, VirtualServiceBoundToMeshOnlyNeverAttaches) {
  Resources r;
  add_services(r);
  r.gateway("istio-system", "gw", {server(80, {"*"})});
  r.virtual_service("default", "vs", {"a.com"}, {}, {rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.cluster(Request("a.com", "/")), "404");
}

TEST(Compiler, TwoGatewaysOnTheSamePortShareOneRouteTable) {
  // §3.15: routes per (server, its Gateway), vhosts unioned by hostname.
  Resources r;
  add_services(r);
  r.gateway("istio-system", "gw-a", {server(80, {"a.com", "shared.com"})});
  r.gateway("app", "gw-b", {server(80, {"b.com", "shared.com"})});
  r.virtual_service("default", "vs-a", {"a.com", "shared.com"}, {"istio-system/gw-a"},
                    {rule({uri(prefix("/a"))}, {dest("httpbin")})});
  r.virtual_service("default", "vs-b", {"b.com", "shared.com"}, {"app/gw-b"},
                    {rule({uri(prefix("/b"))}, {dest("other")})});
  Compiled c(r.set);
  ASSERT_EQ(c.snapshot().listeners.size(), 1u);
  EXPECT_EQ(c.listener()->servers.size(), 2u);
  EXPECT_EQ(c.cluster(Request("a.com", "/a")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("b.com", "/b")), kOther);
  EXPECT_EQ(c.cluster(Request("a.com", "/b")), "404");
  // The shared host gets both Gateways' routes.
  EXPECT_EQ(c.cluster(Request("shared.com", "/a")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("shared.com", "/b")), kOther);
}

TEST(Compiler, OneVirtualServiceOnTwoServersOfTheSameListenerIsNotDuplicated) {
  Resources r;
  add_services(r);
  r.gateway("istio-system", "gw", {server(80, {"*"}), server(80, {"a.com"}, "HTTP", "second")});
  r.virtual_service("default", "vs", {"a.com"}, {"istio-system/gw"}, {rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_EQ(c.listener()->routes->find_domain("a.com")->routes.size(), 1u);
}

TEST(Compiler, WildcardServerAndSpecificVirtualServiceHosts) {
  // Server `*.foo.com` ∩ VS [a.foo.com, *.bar.com] => only a.foo.com.
  Resources r;
  add_services(r);
  r.gateway("istio-system", "gw", {server(80, {"*.foo.com"})});
  r.virtual_service("default", "vs", {"a.foo.com", "*.bar.com"}, {"istio-system/gw"},
                    {rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  const auto& vhosts = c.listener()->routes->virtual_hosts();
  ASSERT_EQ(vhosts.size(), 1u);
  EXPECT_EQ(vhosts[0]->domain, "a.foo.com");
  EXPECT_EQ(c.cluster(Request("b.foo.com", "/")), "404");
}

TEST(Compiler, StarVirtualServiceTakesTheServerHosts) {
  Resources r;
  add_services(r);
  r.gateway("istio-system", "gw", {server(80, {"a.com", "*.b.com"})});
  r.virtual_service("default", "vs", {"*"}, {"istio-system/gw"}, {rule({}, {dest("httpbin")})});
  Compiled c(r.set);
  EXPECT_NE(c.listener()->routes->find_domain("a.com"), nullptr);
  EXPECT_NE(c.listener()->routes->find_domain("*.b.com"), nullptr);
  EXPECT_EQ(c.listener()->routes->find_domain("*"), nullptr);
  EXPECT_EQ(c.cluster(Request("x.b.com", "/")), kHttpbin);
  EXPECT_EQ(c.cluster(Request("c.com", "/")), "404");
}

TEST(Compiler, HttpsRedirectMarksEveryHostOfTheServer) {
  // §2.3/§4.6: require_tls on every vhost of the server, VS or not.
  Resources r;
  add_services(r);
  config::Server s = server(80, {"a.com", "ns1/b.com", "*.c.com"});
  s.tls = config::ServerTLSSettings{};
  s.tls->https_redirect = true;
  r.gateway("istio-system", "gw", {s});
  r.gateway("istio-system", "plain", {server(80, {"plain.com"})});
  r.virtual_service("default", "vs", {"x.c.com"}, {"istio-system/gw"}, {rule({}, {dest("httpbin")})});
  r.virtual_service("default", "plain", {"plain.com"}, {"istio-system/plain"}, {rule({}, {dest("other")})});
  Compiled c(r.set);
  const router::RouteTable& table = *c.listener()->routes;
  for (const char* domain : {"a.com", "b.com", "*.c.com", "x.c.com"}) {
    const router::VirtualHost* vhost = table.find_domain(domain);
    ASSERT_NE(vhost, nullptr) << domain;
    EXPECT_TRUE(vhost->require_tls) << domain;
  }
  EXPECT_EQ(table.find_virtual_host("a.com")->routes.size(), 0u);
  EXPECT_EQ(table.find_virtual_host("x.c.com")->routes.size(), 1u);
  EXPECT_FALSE(table.find_domain("plain.com")->require_tls);
  EXPECT_EQ(table.find_domain("*"), nullptr);
}

TEST(Compiler, UnsupportedServersAreReportedInTheSnapshot) {
  Resources r;
  r.gateway("istio-system", "gw", {server(80, {"*"}), server(443, {"*"}, "HTTPS")});
  Compiled c(r.set);
  EXPECT_EQ(c.snapshot().listeners.size(), 1u);
  ASSERT_EQ(c.snapshot().diagnostics.size(), 1u);
  EXPECT_EQ(
      c.snapshot().diagnostics[0].format(),
      "test.yaml: warning: Gateway istio-system/gw: spec.servers[1]: protocol HTTPS is not supported yet; "
      "server skipped");
  EXPECT_EQ(c.result.diagnostics.size(), 1u);
}

TEST(Compiler, DiagnosticsAreReportedOnce) {
  // The same VS on two listeners is translated twice; a warning about the VS
  // itself appears once, one about each (different) cluster once per cluster.
  Resources r;
  r.gateway("istio-system", "gw", {server(80, {"*"}), server(81, {"*"})});
  config::HTTPMatchRequest literal_method;  // warned about: matched as a literal header
  literal_method.headers["method"] = exact("GET");
  r.virtual_service("default", "vs", {"a.com"}, {"istio-system/gw"},
                    {rule({literal_method}, {dest("missing")})});
  Compiled c(r.set);
  EXPECT_EQ(c.snapshot().listeners.size(), 2u);
  int header_key = 0;
  int destination = 0;
  for (const auto& d : c.result.diagnostics) {
    header_key += d.field == "spec.http[0].match[0].headers.method";
    destination += d.field == "spec.http[0].route[0].destination";
  }
  EXPECT_EQ(header_key, 1);
  EXPECT_EQ(destination, 2);  // outbound|80||missing... and outbound|81||missing...
}

TEST(Compiler, IsDeterministic) {
  Resources r;
  add_services(r);
  r.gateway("istio-system", "gw", {server(80, {"*"}), server(81, {"*"})});
  r.virtual_service("default", "vs1", {"a.com", "b.com"}, {"istio-system/gw"},
                    {rule({uri(prefix("/x"))}, {dest("other")}), rule({}, {dest("httpbin")})});
  r.virtual_service("default", "vs2", {"c.com"}, {"istio-system/gw"}, {rule({}, {dest("other", 8000)})});
  Compiled c1(r.set);
  Compiled c2(r.set);
  ASSERT_EQ(c1.snapshot().clusters.size(), c2.snapshot().clusters.size());
  for (size_t i = 0; i < c1.snapshot().clusters.size(); ++i) {
    EXPECT_EQ(c1.snapshot().clusters[i]->name, c2.snapshot().clusters[i]->name);
  }
  ASSERT_EQ(c1.snapshot().listeners.size(), c2.snapshot().listeners.size());
  for (size_t i = 0; i < c1.snapshot().listeners.size(); ++i) {
    const auto& v1 = c1.snapshot().listeners[i].routes->virtual_hosts();
    const auto& v2 = c2.snapshot().listeners[i].routes->virtual_hosts();
    ASSERT_EQ(v1.size(), v2.size());
    for (size_t j = 0; j < v1.size(); ++j) EXPECT_EQ(v1[j]->domain, v2[j]->domain);
  }
}

}  // namespace
}  // namespace torii::compile
