// `torii explain` logic: resources in, request in, explanation out.
#include "explain/explain.h"

#include <gtest/gtest.h>

#include "../compile/resource_builders.h"

namespace torii::explain {
namespace {

using namespace compile::testing;  // NOLINT: builders
using json = nlohmann::json;

class Explain : public ::testing::Test {
 protected:
  Explain() {
    r.gateway("istio-system", "gw", {server(80, {"*.example.com"})});
    r.service("default", "httpbin", {service_port("http", 8000, 80)}, Labels{{"app", "httpbin"}});
    r.pod("default", "httpbin-1", "10.0.0.1", {{"app", "httpbin"}});
  }
  json run(const std::string& method, const std::string& url,
           std::vector<std::pair<std::string, std::string>> headers = {}) {
    compiled = std::make_unique<compile::testing::Compiled>(r.set, identity);
    return explain(compiled->snapshot(), Request{method, url, std::move(headers)});
  }
  Resources r;
  compile::GatewayIdentity identity;
  std::unique_ptr<compile::testing::Compiled> compiled;
};

TEST_F(Explain, MatchedRouteWithEarlierFailuresAndDestination) {
  config::HTTPMatchRequest user;
  user.headers["x-user"] = exact("alice");
  config::HTTPRoute rewrite = rule({uri(prefix("/api/"))}, {dest("httpbin")}, "api");
  rewrite.rewrite = config::HTTPRewrite{"/v2/", "internal", std::nullopt};
  r.virtual_service("default", "vs", {"a.example.com"}, {"istio-system/gw"},
                    {rule({user}, {dest("httpbin")}, "alice"), rewrite});
  identity.port_map = {{80, 8080}};
  json e = run("GET", "http://a.example.com:8080/api/x?q=1", {{"X-User", "bob"}});
  ASSERT_FALSE(e.contains("error")) << e.dump(2);
  EXPECT_EQ(e["listener"]["name"], "0.0.0.0_8080");
  EXPECT_EQ(e["listener"]["gateway_port"], 80);
  EXPECT_TRUE(e["listener"]["servers"][0]["serves_host"].get<bool>());
  EXPECT_EQ(e["virtual_host"], "a.example.com");
  ASSERT_EQ(e["skipped_routes"].size(), 1u);
  EXPECT_EQ(e["skipped_routes"][0]["failed"], "header x-user exact \"alice\": value is \"bob\"");
  EXPECT_EQ(e["route"]["virtual_service"], "default/vs");
  EXPECT_EQ(e["route"]["rule"], 1);
  EXPECT_EQ(e["route"]["name"], "api");
  const json& d = e["action"]["destinations"][0];
  EXPECT_EQ(d["cluster"], "outbound|8000||httpbin.default.svc.cluster.local");
  EXPECT_EQ(d["endpoints"][0]["address"], "10.0.0.1:80");
  EXPECT_EQ(d["upstream_request"]["target"], "/v2/x?q=1");
  EXPECT_EQ(d["upstream_request"]["host"], "internal");
  EXPECT_EQ(e["result"]["status"], 0);

  std::string text = to_text(e);
  EXPECT_NE(text.find("skipped     #0 default/vs spec.http[0].match[0] \"alice\""), std::string::npos)
      << text;
  EXPECT_NE(text.find("upstream request: GET /v2/x?q=1  Host: internal"), std::string::npos) << text;
}

TEST_F(Explain, NoVirtualHostNoRouteAndNoListener) {
  r.virtual_service("default", "vs", {"a.example.com"}, {"istio-system/gw"},
                    {rule({uri(exact("/only"))}, {dest("httpbin")})});
  json e = run("GET", "http://example.com/");
  EXPECT_EQ(e["result"]["status"], 404);
  EXPECT_FALSE(e.contains("virtual_host"));
  e = run("GET", "http://a.example.com/other");
  EXPECT_EQ(e["result"]["status"], 404);
  EXPECT_EQ(e["skipped_routes"][0]["failed"], "uri exact \"/only\": path is \"/other\"");
  e = run("GET", "http://a.example.com:9999/");
  EXPECT_EQ(e["result"]["status"], 0);
  EXPECT_NE(e["result"]["reason"].get<std::string>().find("no listener on port 9999"), std::string::npos);
}

TEST_F(Explain, RedirectDirectResponseAndMissingCluster) {
  config::HTTPRoute redirect = rule({uri(prefix("/old"))}, {});
  redirect.redirect = config::HTTPRedirect{};
  redirect.redirect->uri = "/new";
  redirect.redirect->redirect_code = 302;
  config::HTTPRoute direct = rule({uri(prefix("/down"))}, {});
  direct.direct_response = config::HTTPDirectResponse{503, std::string("maintenance")};
  r.virtual_service("default", "vs", {"a.example.com"}, {"istio-system/gw"},
                    {redirect, direct, rule({}, {dest("missing")})});
  json e = run("GET", "http://a.example.com/old/x?y");
  EXPECT_EQ(e["action"]["type"], "redirect");
  EXPECT_EQ(e["action"]["location"], "http://a.example.com/new?y");
  EXPECT_EQ(e["result"]["status"], 302);
  e = run("POST", "http://a.example.com/down");
  EXPECT_EQ(e["action"]["type"], "direct_response");
  EXPECT_EQ(e["action"]["body"], "maintenance");
  EXPECT_EQ(e["result"]["status"], 503);
  e = run("GET", "http://a.example.com/x");
  EXPECT_EQ(e["result"]["status"], 503);
  EXPECT_NE(to_text(e).find("503 (NC, cluster_not_found)"), std::string::npos) << to_text(e);
}

TEST_F(Explain, HostHeaderWinsAndClientEnvoyHeadersAreStripped) {
  config::HTTPMatchRequest retry;
  retry.headers["x-envoy-retry-on"] = presence();
  r.virtual_service("default", "vs", {"b.example.com"}, {"istio-system/gw"},
                    {rule({retry}, {dest("missing")}), rule({}, {dest("httpbin")})});
  json e = run("GET", "http://127.0.0.1/", {{"Host", "b.example.com"}, {"x-envoy-retry-on", "5xx"}});
  EXPECT_EQ(e["virtual_host"], "b.example.com");
  EXPECT_EQ(e["route"]["rule"], 1);  // the gateway strips x-envoy-* before routing
}

TEST_F(Explain, BadInput) {
  EXPECT_TRUE(run("GET", "/relative").contains("error"));
  EXPECT_TRUE(run("GET", "ftp://a/").contains("error"));
  EXPECT_TRUE(run("BAD METHOD", "http://a/").contains("error"));
  std::pair<std::string, std::string> h;
  EXPECT_TRUE(parse_header("X-A:  b c ", h));
  EXPECT_EQ(h.first, "X-A");
  EXPECT_EQ(h.second, "b c");
  EXPECT_FALSE(parse_header("no colon", h));
}

}  // namespace
}  // namespace torii::explain
