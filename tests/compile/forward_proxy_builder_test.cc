// Forward-proxy listeners (compile/forward_proxy_builder.h): the allow-list
// decision (exact host, wildcard host, port), the routes (mesh
// VirtualServices, Istio's default route) and the outbound traffic policy.
#include <gtest/gtest.h>

#include "compile/forward_proxy_builder.h"
#include "resource_builders.h"

namespace torii::compile {
namespace {

using namespace testing;  // NOLINT: builders

config::Port http_port(uint32_t number) {
  config::Port p;
  p.number = number;
  p.protocol = "HTTP";
  p.name = "http-" + std::to_string(number);
  return p;
}

class ForwardProxy : public ::testing::Test {
 protected:
  ForwardProxy() {
    r.gateway("istio-system", "fp", {server(80, {"*"})});
    identity.forward_proxy_ports = {80};
  }

  config::ServiceEntry& static_entry(const std::string& name, std::vector<std::string> hosts,
                                     std::vector<uint32_t> ports, std::string resolution = "STATIC") {
    std::vector<config::Port> p;
    for (uint32_t n : ports) p.push_back(http_port(n));
    config::ServiceEntry& se = r.service_entry("default", name, std::move(hosts), std::move(p), resolution);
    if (resolution == "STATIC") {
      config::WorkloadEntry endpoint;
      endpoint.address = "10.0.0.1";
      se.endpoints.push_back(endpoint);
    }
    return se;
  }

  // The destination the forward proxy would use for http://<authority>/<path>,
  // "403" when the target is not allowed, "404" when no route matches.
  std::string target(const Compiled& c, const std::string& authority, const std::string& path = "/") {
    const Listener* l = c.listener();
    if (l == nullptr || !l->forward_proxy) return "<not a forward proxy>";
    const router::VirtualHost* vhost = l->forward_proxy->find(authority, 80);
    if (vhost == nullptr) return "403";
    Request request(authority, path);
    const router::Route* route = vhost->match(request.view());
    if (route == nullptr) return "404";
    const router::WeightedCluster& wc = route->action.pick(0);
    if (wc.blackhole) return "blackhole";
    if (wc.dynamic_host)
      return "dynamic:" + (wc.dynamic_name.empty() ? std::string("<request host>") : wc.dynamic_name) +
             " via " + (wc.cluster ? wc.cluster->name : "?");
    return wc.name;
  }

  Resources r;
  GatewayIdentity identity;
};

TEST_F(ForwardProxy, OnlyListenersOnForwardProxyPortsGetATable) {
  static_entry("api", {"api.example.com"}, {80});
  identity.forward_proxy_ports = {};
  Compiled plain(r.set, identity);
  EXPECT_EQ(plain.listener()->forward_proxy, nullptr);
  identity.forward_proxy_ports = {80};
  Compiled fp(r.set, identity);
  EXPECT_NE(fp.listener()->forward_proxy, nullptr);
  // The gateway's own route table is unchanged (origin-form traffic).
  EXPECT_EQ(fp.cluster(Request("api.example.com", "/")), "404");
}

TEST_F(ForwardProxy, APortNoHttpServerServesIsAWarning) {
  identity.forward_proxy_ports = {80, 3128};
  Compiled c(r.set, identity);
  int warnings = 0;
  for (const config::Diagnostic& d : c.result.diagnostics) {
    if (d.field != "--forward-proxy-port") continue;
    ++warnings;
    EXPECT_EQ(d.severity, config::Diagnostic::Severity::Warning);
    EXPECT_NE(d.message.find("port 3128"), std::string::npos) << d.message;
  }
  EXPECT_EQ(warnings, 1);  // port 80 has the Gateway's HTTP server
}

TEST_F(ForwardProxy, ExactHostAndPort) {
  static_entry("api", {"api.example.com"}, {80, 8080});
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "api.example.com"), "outbound|80||api.example.com");
  EXPECT_EQ(target(c, "API.Example.COM:80"), "outbound|80||api.example.com");
  EXPECT_EQ(target(c, "api.example.com:8080"), "outbound|8080||api.example.com");
  EXPECT_EQ(target(c, "api.example.com:9090"), "403");  // port not declared
  EXPECT_EQ(target(c, "api.example.com:0"), "403");
  EXPECT_EQ(target(c, "api.example.com:x"), "403");
  EXPECT_EQ(target(c, "other.example.com"), "403");
  EXPECT_EQ(target(c, "example.com"), "403");
  EXPECT_EQ(target(c, "a.api.example.com"), "403");
  EXPECT_EQ(target(c, "10.0.0.1"), "403");  // the endpoint's address is no loophole
}

TEST_F(ForwardProxy, WildcardHostCoversSubdomainsNotItself) {
  static_entry("wild", {"*.example.com"}, {80}, "NONE");
  static_entry("api", {"api.example.com"}, {80});
  Compiled c(r.set, identity);
  // Exact beats wildcard.
  EXPECT_EQ(target(c, "api.example.com"), "outbound|80||api.example.com");
  // Wildcard with resolution NONE: the dynamic forward proxy, the request's own name.
  EXPECT_EQ(target(c, "www.example.com"), "dynamic:<request host> via outbound|80||*.example.com");
  EXPECT_EQ(target(c, "a.b.example.com"), "dynamic:<request host> via outbound|80||*.example.com");
  EXPECT_EQ(target(c, "example.com"), "403");
  EXPECT_EQ(target(c, "www.example.org"), "403");
}

TEST_F(ForwardProxy, LongestWildcardWins) {
  static_entry("wide", {"*.com"}, {80});
  static_entry("narrow", {"*.example.com"}, {80});
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "a.example.com"), "outbound|80||*.example.com");
  EXPECT_EQ(target(c, "a.other.com"), "outbound|80||*.com");
}

TEST_F(ForwardProxy, KubernetesServicesAreAllowedToo) {
  r.service("default", "httpbin", {service_port("http", 8000)});
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "httpbin.default.svc.cluster.local:8000"),
            "outbound|8000||httpbin.default.svc.cluster.local");
  EXPECT_EQ(target(c, "httpbin.default.svc.cluster.local"), "403");  // port 80 not declared
}

TEST_F(ForwardProxy, ServiceEntriesNotExportedHereAreNotAllowed) {
  static_entry("hidden", {"hidden.example.com"}, {80}).export_to = {"~"};
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "hidden.example.com"), "403");
}

TEST_F(ForwardProxy, MeshVirtualServicesRouteAndGatewayOnesDoNot) {
  static_entry("api", {"api.example.com"}, {80});
  static_entry("v2", {"v2.example.com"}, {80});
  // Bound to mesh (no gateways): applies to forward-proxy traffic.
  r.virtual_service(
      "default", "mesh-vs", {"api.example.com"}, {},
      {rule({uri(prefix("/v2"))}, {dest("v2.example.com")}), rule({}, {dest("api.example.com")})});
  // Bound to the forward-proxy Gateway only: origin-form traffic, not this.
  r.virtual_service("default", "gw-vs", {"v2.example.com"}, {"istio-system/fp"},
                    {rule({}, {dest("api.example.com")})});
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "api.example.com", "/v2/x"), "outbound|80||v2.example.com");
  EXPECT_EQ(target(c, "api.example.com", "/x"), "outbound|80||api.example.com");
  EXPECT_EQ(target(c, "v2.example.com"), "outbound|80||v2.example.com");  // default route
  EXPECT_EQ(c.cluster(Request("v2.example.com", "/")), "outbound|80||api.example.com");
}

TEST_F(ForwardProxy, MatchGatewaysAndPortAreThoseOfTheSidecar) {
  static_entry("api", {"api.example.com"}, {80, 8080});
  static_entry("egress", {"egress.example.com"}, {80});
  config::HTTPMatchRequest mesh_80;
  mesh_80.gateways = {"mesh"};
  mesh_80.port = 80;
  r.virtual_service("default", "vs", {"api.example.com"}, {"mesh", "istio-system/fp"},
                    {rule({mesh_80}, {dest("egress.example.com")}), rule({}, {dest("api.example.com")})});
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "api.example.com"), "outbound|80||egress.example.com");
  EXPECT_EQ(target(c, "api.example.com:8080"), "outbound|8080||api.example.com");
}

TEST_F(ForwardProxy, UnknownDestinationFollowsTheOutboundTrafficPolicy) {
  static_entry("api", {"api.example.com"}, {80});
  r.virtual_service("default", "vs", {"api.example.com"}, {}, {rule({}, {dest("legacy.example.net", 8080)})});
  Compiled allow_any(r.set, identity);
  EXPECT_EQ(target(allow_any, "api.example.com"), "dynamic:legacy.example.net via PassthroughCluster");
  EXPECT_NE(allow_any.snapshot().find_cluster("PassthroughCluster"), nullptr);
  // PassthroughCluster has no port: the destination's own (its cluster name's) is kept.
  const router::VirtualHost* vhost = allow_any.listener()->forward_proxy->find("api.example.com", 80);
  ASSERT_NE(vhost, nullptr);
  EXPECT_EQ(vhost->routes.at(0).action.clusters.at(0).dynamic_port, 8080u);
  identity.outbound_registry_only = true;
  Compiled registry_only(r.set, identity);
  EXPECT_EQ(target(registry_only, "api.example.com"), "blackhole");
  EXPECT_EQ(registry_only.snapshot().find_cluster("PassthroughCluster"), nullptr);
}

TEST_F(ForwardProxy, ConnectTargetIsTheHostsOwnCluster) {
  static_entry("api", {"api.example.com"}, {443});
  static_entry("wild", {"*.example.org"}, {443}, "NONE");
  r.virtual_service("default", "vs", {"api.example.com"}, {}, {rule({}, {dest("elsewhere.example.net")})});
  Compiled c(r.set, identity);
  const auto* fp = c.listener()->forward_proxy.get();
  const router::VirtualHost* api = fp->find("api.example.com:443", 443);
  ASSERT_NE(api, nullptr);
  const router::WeightedCluster* target = fp->connect_target(*api);
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->name, "outbound|443||api.example.com");
  ASSERT_NE(target->cluster, nullptr);
  EXPECT_FALSE(target->dynamic_host);
  const router::VirtualHost* wild = fp->find("www.example.org:443", 443);
  ASSERT_NE(wild, nullptr);
  target = fp->connect_target(*wild);
  ASSERT_NE(target, nullptr);
  EXPECT_TRUE(target->dynamic_host);
  EXPECT_EQ(target->dynamic_name, "");  // the CONNECT authority's host
}

TEST_F(ForwardProxy, MissingSubsetStaysNoCluster) {
  static_entry("api", {"api.example.com"}, {80});
  r.virtual_service("default", "vs", {"api.example.com"}, {},
                    {rule({}, {dest("api.example.com", 80, "v9")})});
  identity.outbound_registry_only = true;
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "api.example.com"), "outbound|80|v9|api.example.com");
  const router::VirtualHost* vhost = c.listener()->forward_proxy->find("api.example.com", 80);
  ASSERT_NE(vhost, nullptr);
  EXPECT_EQ(vhost->routes.at(0).action.clusters.at(0).cluster, nullptr);  // 503 NC, as anywhere
}

TEST_F(ForwardProxy, ResolutionNoneExactHostResolvesThatName) {
  static_entry("none", {"plain.example.com"}, {80}, "NONE");
  Compiled c(r.set, identity);
  EXPECT_EQ(target(c, "plain.example.com"), "dynamic:plain.example.com via outbound|80||plain.example.com");
  // An ordinary gateway route to it keeps Istio's gateway behaviour (no endpoints => 503 UH).
  r.virtual_service("default", "gw", {"*"}, {"istio-system/fp"}, {rule({}, {dest("plain.example.com")})});
  Compiled g(r.set, identity);
  const router::Route* route = g.route(Request("x", "/"));
  ASSERT_NE(route, nullptr);
  EXPECT_FALSE(route->action.clusters.at(0).dynamic_host);
}

}  // namespace
}  // namespace torii::compile
