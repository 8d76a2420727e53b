#include "cli/get_tables.h"

#include <gtest/gtest.h>

namespace torii::cli {
namespace {

using nlohmann::json;

TEST(GetTablesTest, ColumnsAlignWithTwoSpacesAndEmptyCellsSayNone) {
  Table t{{"NAME", "ADDRESS", "EXTRA"}, 2, {{"a", "127.0.0.1:80", "x"}, {"longer-name", "", "y"}}};
  EXPECT_EQ(format_table(t, false),
            "NAME         ADDRESS\n"
            "a            127.0.0.1:80\n"
            "longer-name  <none>\n");
  EXPECT_EQ(format_table(t, true),
            "NAME         ADDRESS       EXTRA\n"
            "a            127.0.0.1:80  x\n"
            "longer-name  <none>        y\n");
}

TEST(GetTablesTest, JsonRowsUseLowerCaseKeys) {
  Table t{{"NAME", "RQ-TOTAL"}, 1, {{"a", "3"}}};
  EXPECT_EQ(table_json(t), json::parse(R"([{"name": "a", "rq_total": "3"}])"));
}

const json kDump = json::parse(R"({
  "snapshot": {
    "listeners": [{
      "name": "0.0.0.0_8080", "gateway_port": 80, "protocol": "HTTP",
      "servers": [{"gateway": "default/gw", "protocol": "HTTP", "hosts": ["*", "a.example.com"]},
                  {"gateway": "other/gw2", "protocol": "HTTP", "hosts": ["a.example.com"]}],
      "virtual_hosts": [{"domain": "a.example.com", "routes": [
        {"virtual_service": "default/vs", "match": {"path": {"prefix": "/api/"},
           "headers": [{"name": "x-user", "value": {"exact": "alice"}}, {"name": "x-no", "value": {"present": ""}, "invert": true}]},
         "clusters": [{"name": "outbound|80|v1|a", "weight": 90, "exists": true},
                      {"name": "outbound|80|v2|a", "weight": 10, "exists": false}],
         "policies": {"timeout_ms": 1500, "retries": {"num_retries": 2, "retry_on": "connect-failure,5xx"}}},
        {"virtual_service": "default/vs", "match": {"path": {"exact": "/old"}}, "clusters": [],
         "redirect": {"status": 301}, "policies": {"timeout_ms": 0, "retries": null}}]}]
    }, {
      "name": "0.0.0.0_9443", "gateway_port": 443,
      "servers": [{"gateway": "default/gw", "protocol": "TLS", "hosts": ["db.example.com"]}],
      "l4_filter_chains": [{"kind": "tls", "server_names": ["db.example.com"], "virtual_service": "default/db",
                            "destinations": [{"cluster": "outbound|443||db", "weight": 100}]}]
    }],
    "clusters": [{"name": "outbound|80|v1|a", "traffic_policy": {
      "connection": {"protocol": "HTTP/2"},
      "circuit_breakers": {"max_connections": 1, "max_pending_requests": "unlimited",
                           "max_requests": "unlimited", "max_retries": "unlimited"},
      "outlier_detection": {"consecutive_5xx": 3, "consecutive_gateway_errors": 0, "interval_ms": 10000,
                            "base_ejection_time_ms": 30000, "max_ejection_percent": 100},
      "tls": {"mode": "SIMPLE"}}}]
  }
})");

TEST(GetTablesTest, ListenersShowTheBoundAddressAndWhatTheyServe) {
  json live = json::parse(R"({"listener_statuses": [{"name": "0.0.0.0_8080", "kinds": ["HTTP"],
    "local_address": {"socket_address": {"address": "0.0.0.0", "port_value": 8080}}}]})");
  Table t = listeners_table(live, kDump);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"0.0.0.0_8080", "0.0.0.0:8080", "HTTP", "*,a.example.com",
                                                 "80", "default/gw,other/gw2"}));
  EXPECT_EQ(t.rows[1][1], "(not bound)");
  EXPECT_EQ(t.rows[1][2], "TLS");  // the servers' protocol when /listeners does not list it
}

TEST(GetTablesTest, RoutesOneRowPerRouteInMatchOrder) {
  Table t = routes_table(kDump);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"0.0.0.0_8080", "a.example.com",
                                                 "prefix:/api/,header:x-user=alice,!header:x-no=present",
                                                 "outbound|80|v1|a=90,outbound|80|v2|a=10(missing)",
                                                 "default/vs", "1500ms", "2", "connect-failure,5xx"}));
  EXPECT_EQ(t.rows[1][2], "exact:/old");
  EXPECT_EQ(t.rows[1][3], "redirect:301");
  EXPECT_EQ(t.rows[1][5], "");  // answered by the gateway: no timeout, no retries
  EXPECT_EQ(t.rows[1][6], "");
  EXPECT_EQ(t.rows[2], (std::vector<std::string>{"0.0.0.0_9443", "db.example.com", "tls", "outbound|443||db",
                                                 "default/db", "", "", ""}));
}

TEST(GetTablesTest, ClustersCountHealthyEndpointsAndShowSetLimits) {
  json live = json::parse(R"({"clusters": [{"name": "outbound|80|v1|a", "lb_policy": "LEAST_REQUEST",
    "endpoints": [{"address": "10.0.0.1:80", "health": "healthy"}, {"address": "10.0.0.2:80", "health": "ejected"}]},
    {"name": "outbound|80||b", "lb_policy": "ROUND_ROBIN", "endpoints": []}]})");
  Table t = clusters_table(live, kDump);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{
                           "outbound|80|v1|a", "HTTP/2", "2", "1", "LEAST_REQUEST", "connections=1",
                           "5xx=3,gateway=0,interval=10s,ejection=30s,max=100%", "SIMPLE"}));
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"outbound|80||b", "", "0", "0", "ROUND_ROBIN", "", "", ""}));
}

TEST(GetTablesTest, EndpointsShowEjectionsAndTheirTimeLeft) {
  json live = json::parse(R"({"clusters": [{"name": "c", "endpoints": [
    {"address": "10.0.0.1:80", "health": "healthy", "lb_weight": 1, "locality": "us/east", "priority": 0,
     "ejection_time_left_ms": 0, "rq_active": 0, "rq_total": 7, "rq_error": 0},
    {"address": "10.0.0.2:80", "health": "ejected", "lb_weight": 2, "locality": "", "priority": 1,
     "ejection_time_left_ms": 28001, "rq_active": 1, "rq_total": 5, "rq_error": 5}]}]})");
  Table t = endpoints_table(live);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"c", "10.0.0.1:80", "healthy", "1", "us/east", "0", "", "0",
                                                 "7", "0"}));
  EXPECT_EQ(t.rows[1],
            (std::vector<std::string>{"c", "10.0.0.2:80", "ejected", "2", "", "1", "29s", "1", "5", "5"}));
  EXPECT_EQ(format_table(t, false),
            "CLUSTER  ADDRESS      HEALTH   WEIGHT  LOCALITY\n"
            "c        10.0.0.1:80  healthy  1       us/east\n"
            "c        10.0.0.2:80  ejected  2       <none>\n");
}

}  // namespace
}  // namespace torii::cli
