// Store: generations, last-good on rejection, deletion, duplicates.
#include "config/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace torii::config {
namespace {

using testing::load;

std::string dr(std::string_view name, std::string_view host, std::string_view extra = "") {
  return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: " + std::string(name) +
         "}\nspec:\n  host: " + std::string(host) + "\n" + std::string(extra);
}

std::string vs(std::string_view name, std::string_view dest_host) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " + std::string(name) +
         "}\nspec:\n  hosts: [" + std::string(name) + ".example.com]\n  gateways: [gw]\n  http:\n" +
         "  - route: [{destination: {host: " + std::string(dest_host) + "}}]\n";
}

const ObjectStatus* status_of(const Store::Result& r, std::string_view kind, std::string_view name) {
  for (const auto& s : r.objects) {
    if (s->key.kind == kind && s->key.name == name) return s.get();
  }
  return nullptr;
}

TEST(StoreTest, GenerationStartsAtOneAndChangesOnlyWithContent) {
  Store store;
  Store::Result r = store.apply(load(dr("a", "reviews")));
  ASSERT_EQ(r.resources.destination_rules.size(), 1u);
  const ObjectStatus* s = status_of(r, "DestinationRule", "a");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->generation, 1);
  EXPECT_TRUE(s->in_force);
  EXPECT_FALSE(s->latest_rejected);

  // Reformatted, same content: same generation.
  r = store.apply(load("# comment\n" + dr("a", "\"reviews\"")));
  EXPECT_EQ(status_of(r, "DestinationRule", "a")->generation, 1);

  r = store.apply(load(dr("a", "ratings")));
  EXPECT_EQ(status_of(r, "DestinationRule", "a")->generation, 2);
  EXPECT_EQ(r.resources.destination_rules[0].host, "ratings");

  r = store.apply(load(dr("a", "ratings")));
  EXPECT_EQ(status_of(r, "DestinationRule", "a")->generation, 2);
}

TEST(StoreTest, InvalidUpdateKeepsLastGood) {
  Store store;
  store.apply(load(dr("a", "reviews") + "---\n" + dr("b", "b")));
  Store::Result r = store.apply(load(dr("a", "\"bad host\"") + "---\n" + dr("b", "b")));

  ASSERT_EQ(r.resources.destination_rules.size(), 2u);
  EXPECT_EQ(r.resources.destination_rules[0].host, "reviews");  // the last good version
  const ObjectStatus* s = status_of(r, "DestinationRule", "a");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->in_force);
  EXPECT_TRUE(s->latest_rejected);
  EXPECT_EQ(s->generation, 1);
  ASSERT_FALSE(s->errors.empty());
  EXPECT_EQ(s->errors[0].field, "spec.host");
  EXPECT_TRUE(testing::has_diagnostic(r.diagnostics, Diagnostic::Severity::Warning, "",
                                      "the latest version was rejected; generation 1 stays in force"));

  // Fixed: in force again, generation moves on.
  r = store.apply(load(dr("a", "details") + "---\n" + dr("b", "b")));
  s = status_of(r, "DestinationRule", "a");
  EXPECT_FALSE(s->latest_rejected);
  EXPECT_TRUE(s->errors.empty());
  EXPECT_EQ(s->generation, 2);
  EXPECT_EQ(r.resources.destination_rules[0].host, "details");
}

TEST(StoreTest, InvalidNewObjectIsNotInForce) {
  Store store;
  const Store::Result r = store.apply(load(dr("a", "\"bad host\"")));
  EXPECT_TRUE(r.resources.destination_rules.empty());
  const ObjectStatus* s = status_of(r, "DestinationRule", "a");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->in_force);
  EXPECT_TRUE(s->latest_rejected);
  EXPECT_EQ(s->generation, 0);
  EXPECT_FALSE(s->errors.empty());
}

TEST(StoreTest, AbsentObjectsAreDeleted) {
  Store store;
  store.apply(load(dr("a", "a") + "---\n" + dr("b", "b")));
  Store::Result r = store.apply(load(dr("b", "b")));
  ASSERT_EQ(r.resources.destination_rules.size(), 1u);
  EXPECT_EQ(r.resources.destination_rules[0].meta.name, "b");
  EXPECT_EQ(status_of(r, "DestinationRule", "a"), nullptr);
  EXPECT_EQ(r.objects.size(), 1u);

  // Re-created later: a new object, generation 1 again.
  r = store.apply(load(dr("a", "other") + "---\n" + dr("b", "b")));
  EXPECT_EQ(status_of(r, "DestinationRule", "a")->generation, 1);
}

TEST(StoreTest, RejectedAndDeletedTogether) {
  Store store;
  store.apply(load(dr("a", "a")));
  // `a` disappears while a rejected object appears: `a` goes, nothing else is in force.
  const Store::Result r = store.apply(load(dr("c", "\"bad host\"")));
  EXPECT_TRUE(r.resources.destination_rules.empty());
  EXPECT_EQ(status_of(r, "DestinationRule", "a"), nullptr);
  EXPECT_FALSE(status_of(r, "DestinationRule", "c")->in_force);
}

TEST(StoreTest, DuplicateKeysLaterWins) {
  Store store;
  const Store::Result r = store.apply(load(dr("a", "first") + "---\n" + dr("a", "second")));
  ASSERT_EQ(r.resources.destination_rules.size(), 1u);
  EXPECT_EQ(r.resources.destination_rules[0].host, "second");
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0]->source.line, 7);
  EXPECT_TRUE(testing::has_diagnostic(r.diagnostics, Diagnostic::Severity::Warning, "",
                                      "defined more than once (at test.yaml:1 and test.yaml:7)"));
}

TEST(StoreTest, DuplicateKeysInALoadResultLaterInvalidWins) {
  // A LoadResult put together by another source (not deduplicated by the loader).
  LoadResult first = load(dr("a", "first"));
  LoadResult bad = load(dr("a", "\"bad host\""));
  LoadResult both = first;
  both.objects.push_back(bad.objects[0]);
  Store store;
  const Store::Result r = store.apply(both);
  EXPECT_TRUE(r.resources.destination_rules.empty());
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_FALSE(r.objects[0]->in_force);
  EXPECT_TRUE(r.objects[0]->latest_rejected);
}

TEST(StoreTest, ResourcesKeepLoadOrder) {
  Store store;
  store.apply(load(vs("one", "a") + "---\n" + vs("two", "b") + "---\n" + vs("three", "c")));
  // `two` is now rejected: its last good version stays, in its place.
  const Store::Result r =
      store.apply(load(vs("one", "a") + "---\n" + vs("two", "\"*\"") + "---\n" + vs("three", "c")));
  ASSERT_EQ(r.resources.virtual_services.size(), 3u);
  EXPECT_EQ(r.resources.virtual_services[0].meta.name, "one");
  EXPECT_EQ(r.resources.virtual_services[1].meta.name, "two");
  EXPECT_EQ(r.resources.virtual_services[1].http[0].route[0].destination.host, "b");
  EXPECT_EQ(r.resources.virtual_services[2].meta.name, "three");
  EXPECT_LT(r.resources.virtual_services[0].meta.load_order, r.resources.virtual_services[1].meta.load_order);
  EXPECT_LT(r.resources.virtual_services[1].meta.load_order, r.resources.virtual_services[2].meta.load_order);
}

TEST(StoreTest, ObjectsSortedByKey) {
  Store store;
  const Store::Result r = store.apply(load(dr("b", "b") + "---\n" + dr("a", "a") +
                                           "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: z}\n"));
  ASSERT_EQ(r.objects.size(), 3u);
  EXPECT_EQ(r.objects[0]->key.str(), "DestinationRule default/a");
  EXPECT_EQ(r.objects[1]->key.str(), "DestinationRule default/b");
  EXPECT_EQ(r.objects[2]->key.str(), "Namespace z");
}

TEST(StoreTest, ObjectsSortedByKeyWhenTheSameNumberComeInAnotherOrder) {
  // The second load has as many objects as the first (the order of the last
  // load is tried first) but other keys and another order.
  Store store;
  store.apply(load(vs("b", "x") + "---\n" + vs("c", "x") + "---\n" + dr("a", "x")));
  Store::Result r = store.apply(load(vs("z", "x") + "---\n" + vs("c", "x") + "---\n" + dr("a", "x")));
  ASSERT_EQ(r.objects.size(), 3u);
  for (size_t i = 1; i < r.objects.size(); ++i) EXPECT_LT(r.objects[i - 1]->key, r.objects[i]->key);
  EXPECT_EQ(r.objects[2]->key.name, "z");
  EXPECT_EQ(status_of(r, "VirtualService", "b"), nullptr);  // deleted
  // The same keys again, reordered: still sorted, generations kept.
  r = store.apply(load(dr("a", "x") + "---\n" + vs("z", "x") + "---\n" + vs("c", "x")));
  for (size_t i = 1; i < r.objects.size(); ++i) EXPECT_LT(r.objects[i - 1]->key, r.objects[i]->key);
  EXPECT_EQ(status_of(r, "VirtualService", "z")->generation, 1);
}

TEST(StoreTest, ObjectsOfAnUnreadableFileAreKept) {
  Store store;
  store.apply(load(dr("a", "a") + "---\n" + dr("b", "b")));
  // A syntax error before `b`: `b` was not read, not deleted.
  const Store::Result r = store.apply(load(dr("a", "a") + "---\nkind: [oops\n---\n" + dr("b", "b")));
  ASSERT_EQ(r.resources.destination_rules.size(), 2u);
  const ObjectStatus* s = status_of(r, "DestinationRule", "b");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->in_force);
  EXPECT_TRUE(s->latest_rejected);
  EXPECT_EQ(s->generation, 1);
  ASSERT_EQ(s->errors.size(), 1u);
  EXPECT_NE(s->errors[0].message.find("YAML syntax error"), std::string::npos);

  // Once the file reads again and `b` is really gone, it is deleted.
  const Store::Result fixed = store.apply(load(dr("a", "a")));
  EXPECT_EQ(fixed.resources.destination_rules.size(), 1u);
}

TEST(StoreTest, MissingDirectoryKeepsItsObjects) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("torii_store_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "dr.yaml") << dr("a", "a");
  Store store;
  EXPECT_EQ(store.apply(load_paths({dir.string()}, LoadOptions{})).resources.destination_rules.size(), 1u);
  fs::remove_all(dir);
  const Store::Result r = store.apply(load_paths({dir.string()}, LoadOptions{}));
  EXPECT_EQ(r.resources.destination_rules.size(), 1u);
  EXPECT_TRUE(status_of(r, "DestinationRule", "a")->latest_rejected);
}

TEST(StoreTest, EndpointsAreOneObject) {
  const std::string two_subsets = R"(apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets:
- addresses: [{ip: 10.0.0.1}]
  ports: [{name: http, port: 80}]
- addresses: [{ip: 10.0.0.2}]
  ports: [{name: admin, port: 9000}]
)";
  Store store;
  Store::Result r = store.apply(load(two_subsets));
  EXPECT_EQ(r.resources.endpoint_slices.size(), 2u);
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0]->key.str(), "Endpoints default/web");
  EXPECT_EQ(r.objects[0]->generation, 1);

  r = store.apply(load(two_subsets));
  EXPECT_EQ(r.resources.endpoint_slices.size(), 2u);
  EXPECT_EQ(r.objects[0]->generation, 1);

  // Scaled to zero: the object stays, with no endpoints.
  r = store.apply(load("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\nsubsets: []\n"));
  EXPECT_TRUE(r.resources.endpoint_slices.empty());
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_TRUE(r.objects[0]->in_force);
  EXPECT_EQ(r.objects[0]->generation, 2);
}

}  // namespace
}  // namespace torii::config
