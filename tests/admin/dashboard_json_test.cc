// /dashboard.json's pieces: the traffic object, the /explain link of a
// route, the reload history.
#include "admin/dashboard_json.h"

#include <gtest/gtest.h>

#include "admin/admin_server.h"
#include "router/route_table.h"

namespace torii::admin {
namespace {

router::Route route_with_path(router::StringMatcher::Kind kind, const std::string& path) {
  router::Route r;
  r.match.path.kind = kind;
  r.match.path.value = path;
  return r;
}

TEST(DashboardJsonTest, TrafficHasCountsQuantilesAndBuckets) {
  telemetry::TrafficTotals t;
  t.requests = 10;
  t.by_class[1] = 8;
  t.by_class[4] = 1;
  t.no_response = 1;
  t.duration_ms.buckets[telemetry::bucket_index(3)] = 10;
  t.duration_ms.count = 10;
  nlohmann::json j = traffic_json(t);
  EXPECT_EQ(j["requests"], 10);
  EXPECT_EQ(j["errors"], 2);
  EXPECT_EQ(j["by_class"], nlohmann::json({0, 8, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(j["p50_ms"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j["p99_ms"].get<double>(), 4.96);
  EXPECT_EQ(j["buckets"].size(), telemetry::kBucketCount);
  EXPECT_EQ(traffic_json({})["p99_ms"], 0);
}

TEST(DashboardJsonTest, ExplainLinkAsksForTheRoutesOwnRequest) {
  router::Route prefix = route_with_path(router::StringMatcher::Kind::Prefix, "/api/");
  EXPECT_EQ(explain_link("shop.example.com", 80, false, prefix),
            "/explain?format=text&url=http://shop.example.com/api/");
  // Wildcards get a name they cover; other ports are spelled out; HTTPS.
  EXPECT_EQ(explain_link("*", 8080, false, prefix), "/explain?format=text&url=http://any.host:8080/api/");
  EXPECT_EQ(explain_link("*.a.com", 443, true, prefix), "/explain?format=text&url=https://any.a.com/api/");
  // A regex path: "/"; exact header matches become header= parameters.
  router::Route regex = route_with_path(router::StringMatcher::Kind::Regex, "/v[0-9]+/.*");
  router::HeaderMatcher user;
  user.name = "x-user";
  user.value.kind = router::StringMatcher::Kind::Exact;
  user.value.value = "alice smith";
  regex.match.headers.push_back(user);
  const std::string link = explain_link("a.com", 80, false, regex);
  EXPECT_EQ(link, "/explain?format=text&url=http://a.com/&header=x-user:alice%20smith");
  EXPECT_EQ(query_param(link.substr(link.find('?') + 1), "header"), "x-user:alice smith");
  // Characters that would end the parameter are encoded.
  router::Route odd = route_with_path(router::StringMatcher::Kind::Exact, "/a&b=c?d#e");
  const std::string odd_link = explain_link("a.com", 80, false, odd);
  EXPECT_EQ(query_param(odd_link.substr(odd_link.find('?') + 1), "url"), "http://a.com/a&b=c?d#e");
}

TEST(DashboardJsonTest, ReloadHistoryNewestFirstWithServingTimes) {
  std::vector<ReloadRecord> history(3);
  history[0] = {1, "startup", 1'000'000, 1'004'000, 5, 0, 0, 0};
  history[1] = {2, "file change", 2'000'000, 2'012'345, 5, 1, 1, 0};
  history[2] = {3, "SIGHUP", 3'000'000, 3'001'000, 5, 0, 0, 1};
  // Version 3 is not served by every worker yet.
  nlohmann::json j = reloads_json(history, [](uint64_t version) -> int64_t {
    return version == 3 ? -1 : static_cast<int64_t>(version) * 1'000'000 + 20'000;
  });
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["version"], 3);
  EXPECT_EQ(j[0]["serving"], nullptr);
  EXPECT_EQ(j[0]["serve_ms"], nullptr);
  EXPECT_EQ(j[0]["result"], "1 listener(s) not bound");
  EXPECT_EQ(j[1]["trigger"], "file change");
  EXPECT_EQ(j[1]["result"], "1 object(s) rejected");
  EXPECT_DOUBLE_EQ(j[1]["publish_ms"].get<double>(), 12.3);
  EXPECT_DOUBLE_EQ(j[1]["serve_ms"].get<double>(), 20.0);
  EXPECT_EQ(j[1]["detected"], "1970-01-01T00:00:02.000Z");
  EXPECT_EQ(j[1]["serving"], "1970-01-01T00:00:02.020Z");
  EXPECT_EQ(j[2]["result"], "ok");
}

}  // namespace
}  // namespace torii::admin
