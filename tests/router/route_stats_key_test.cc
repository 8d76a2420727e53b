// Route::stats_key, the name per-route traffic stats use (the dashboard):
// set by RouteTable::finalize from the virtual host and the rule.
#include <gtest/gtest.h>

#include "router/route_table.h"

namespace torii::router {
namespace {

TEST(RouteStatsKeyTest, NamesDomainVirtualServiceRuleMatchAndDelegate) {
  RouteTable table;
  VirtualHost& vh = table.add_virtual_host("shop.example.com");
  Route with_match;
  with_match.virtual_service = "default/shop";
  with_match.rule_index = 2;
  with_match.match_index = 1;
  Route catch_all;
  catch_all.virtual_service = "default/shop";
  catch_all.rule_index = 3;
  Route delegated;
  delegated.virtual_service = "default/root";
  delegated.rule_index = 0;
  delegated.match_index = 0;
  delegated.delegate = "team/child";
  delegated.delegate_rule_index = 4;
  vh.routes = {with_match, catch_all, delegated};
  table.add_virtual_host("*").routes = {catch_all};
  table.finalize();
  EXPECT_EQ(vh.routes[0].stats_key, "shop.example.com default/shop#2.1");
  EXPECT_EQ(vh.routes[1].stats_key, "shop.example.com default/shop#3");
  EXPECT_EQ(vh.routes[2].stats_key, "shop.example.com default/root#0.0 team/child#4");
  EXPECT_EQ(table.find_domain("*")->routes[0].stats_key, "* default/shop#3");
}

}  // namespace
}  // namespace torii::router
