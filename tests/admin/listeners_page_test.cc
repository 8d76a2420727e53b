// /listeners: Envoy's text and JSON forms, the bound port (not the configured
// 0), and what each listener serves.
#include "admin/listeners_page.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "router/route_table.h"

namespace torii::admin {
namespace {

ConfigState state_with_listeners() {
  auto s = std::make_shared<compile::Snapshot>();
  compile::Listener http;
  http.name = "0.0.0.0_0_80";
  http.bind = "0.0.0.0";
  http.gateway_port = 80;
  http.listen_port = 0;  // --port-map 80=0
  http.protocol = "HTTP";
  http.routes = std::make_shared<router::RouteTable>();
  s->listeners.push_back(http);
  compile::Listener tcp;
  tcp.name = "::1_3306";
  tcp.bind = "::1";
  tcp.gateway_port = 3306;
  tcp.listen_port = 3306;
  tcp.protocol = "TCP";
  tcp.l4 = true;
  tcp.l4_routes.push_back(router::L4Route{});
  tcp.l4_routes.back().kind = "tcp";
  s->listeners.push_back(tcp);
  compile::Listener unbound = http;
  unbound.name = "0.0.0.0_8080";
  unbound.listen_port = 8080;
  s->listeners.push_back(unbound);
  ConfigState state;
  state.snapshot = s;
  state.bound_ports = {{"0.0.0.0_0_80", 41234}, {"::1_3306", 3306}};  // 8080 could not be bound
  return state;
}

TEST(ListenersPageTest, TextIsEnvoysNameAndAddressLines) {
  AdminResponse r = listeners_page(state_with_listeners(), "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain");
  EXPECT_EQ(r.body, "0.0.0.0_0_80::0.0.0.0:41234\n::1_3306::[::1]:3306\n");
}

TEST(ListenersPageTest, JsonIsEnvoysListenerStatusesWithTheGatewayPortAndKinds) {
  AdminResponse r = listeners_page(state_with_listeners(), "format=json");
  EXPECT_EQ(r.content_type, "application/json");
  const nlohmann::json doc = nlohmann::json::parse(r.body);
  const nlohmann::json& statuses = doc.at("listener_statuses");
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].at("name"), "0.0.0.0_0_80");
  EXPECT_EQ(statuses[0].at("local_address").at("socket_address").at("address"), "0.0.0.0");
  EXPECT_EQ(statuses[0].at("local_address").at("socket_address").at("port_value"), 41234);
  EXPECT_EQ(statuses[0].at("gateway_port"), 80);
  EXPECT_EQ(statuses[0].at("configured_port"), 0);
  EXPECT_EQ(statuses[0].at("kinds"), nlohmann::json({"HTTP"}));
  EXPECT_EQ(statuses[1].at("kinds"), nlohmann::json({"TCP"}));
}

TEST(ListenersPageTest, NothingBeforeTheFirstConfig) {
  EXPECT_EQ(listeners_page(ConfigState{}, "").body, "");
  EXPECT_EQ(nlohmann::json::parse(listeners_page(ConfigState{}, "format=json").body),
            nlohmann::json::parse(R"({"listener_statuses": []})"));
}

}  // namespace
}  // namespace torii::admin
