// A reload through the load cache and the Store does work for what changed
// only: an unchanged file's objects keep their pointers and their statuses,
// and what comes out is what a load from scratch gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/loader.h"
#include "config/store.h"
#include "test_util.h"

namespace torii::config {
namespace {

namespace fs = std::filesystem;
using testing::route_vs;

class IncrementalReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("torii_incremental");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Written as a temp file renamed over the old one (as editors and
  // ConfigMap updates do): a new inode, so stat() sees the change at once.
  void write(const std::string& name, const std::string& text) {
    const fs::path tmp = dir_ / ("." + name + ".tmp");
    std::ofstream(tmp) << text;
    fs::rename(tmp, dir_ / name);
  }
  // Through the cache, as `torii run` reloads; checked against a load from
  // scratch every time.
  Store::Result reload() {
    LoadResult cached = load_paths({dir_.string()}, LoadOptions{}, &cache_);
    const LoadResult plain = load_paths({dir_.string()}, LoadOptions{});
    EXPECT_EQ(summary(cached), summary(plain));
    return store_.apply(std::move(cached));
  }
  // Keys, sources, order (load and key order) and diagnostics of a load.
  static std::vector<std::string> summary(const LoadResult& r) {
    std::vector<std::string> out;
    for (const Diagnostic& d : r.diagnostics) out.push_back(d.format());
    for (const LoadedObject& o : r.objects) {
      out.push_back(o.key.str() + " at " + o.source().file + ":" + std::to_string(o.source().line) +
                    " order " + std::to_string(o.load_order) + (o.valid ? " valid" : " invalid"));
    }
    EXPECT_EQ(r.key_order.size(), r.objects.size());
    for (uint32_t i : r.key_order) out.push_back("key order " + r.objects.at(i).key.str());
    return out;
  }
  static const ObjectStatus* status(const Store::Result& r, std::string_view name) {
    for (const auto& s : r.objects)
      if (s->key.name == name) return s.get();
    return nullptr;
  }
  static const VirtualService* served(const Store::Result& r, std::string_view name) {
    for (const VirtualService& v : r.resources.virtual_services)
      if (v.meta.name == name) return &v;
    return nullptr;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  LoadCache cache_;
  Store store_;
};

TEST_F(IncrementalReloadTest, AnUnchangedFileKeepsItsObjectsAndStatuses) {
  const std::string destination_rule =
      "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n  name: dr\n"
      "spec:\n  host: one.example.com\n";
  write("a.yaml", route_vs("one", "one.example.com") + "---\n" + route_vs("two", "two.example.com") +
                      "---\n" + destination_rule);
  write("b.yaml", route_vs("three", "three.example.com"));
  const Store::Result first = reload();
  write("b.yaml", route_vs("three", "changed.example.com"));
  const Store::Result second = reload();
  EXPECT_EQ(cache_.stats().parsed, 1u);
  EXPECT_EQ(cache_.stats().files_changed, 1u);
  // a.yaml's objects: the very same objects and statuses (not copies).
  for (std::string_view name : {"one", "two"}) {
    EXPECT_EQ(status(second, name), status(first, name)) << name;
    EXPECT_EQ(served(second, name), served(first, name)) << name;
  }
  EXPECT_EQ(status(second, "one")->generation, 1);
  // b.yaml's: read again, a new generation.
  EXPECT_NE(status(second, "three"), status(first, "three"));
  EXPECT_EQ(status(second, "three")->generation, 2);
  ASSERT_NE(served(second, "three"), nullptr);
  EXPECT_EQ(served(second, "three")->hosts[0], "changed.example.com");
  // The compile caches compare the lists by pointer: an unchanged kind
  // compares equal, a changed one does not.
  ASSERT_EQ(second.resources.destination_rules.size(), 1u);
  EXPECT_TRUE(second.resources.destination_rules.same_objects(first.resources.destination_rules));
  EXPECT_FALSE(second.resources.virtual_services.same_objects(first.resources.virtual_services));
}

TEST_F(IncrementalReloadTest, ADeletedFilesObjectsDisappear) {
  write("a.yaml", route_vs("one", "one.example.com"));
  write("b.yaml", route_vs("two", "two.example.com") + "---\n" + route_vs("three", "three.example.com"));
  const Store::Result first = reload();
  ASSERT_EQ(first.objects.size(), 3u);
  fs::remove(dir_ / "b.yaml");
  const Store::Result second = reload();
  ASSERT_EQ(second.objects.size(), 1u);
  EXPECT_EQ(status(second, "one"), status(first, "one"));
  EXPECT_EQ(second.resources.virtual_services.size(), 1u);
  EXPECT_EQ(served(second, "two"), nullptr);
}

TEST_F(IncrementalReloadTest, AContentChangedBackIsAChangeAgain) {
  write("a.yaml", route_vs("one", "x.example.com"));
  EXPECT_EQ(status(reload(), "one")->generation, 1);
  write("a.yaml", route_vs("one", "y.example.com"));
  EXPECT_EQ(status(reload(), "one")->generation, 2);
  write("a.yaml", route_vs("one", "x.example.com"));
  const Store::Result back = reload();
  EXPECT_EQ(status(back, "one")->generation, 3);
  EXPECT_EQ(served(back, "one")->hosts[0], "x.example.com");
  // Only reformatted: the same content, the same generation.
  write("a.yaml", "# a comment\n" + route_vs("one", "'x.example.com'"));
  EXPECT_EQ(status(reload(), "one")->generation, 3);
}

TEST_F(IncrementalReloadTest, AFileRenamedOverAnother) {
  write("a.yaml", route_vs("one", "one.example.com"));
  write("b.yaml", route_vs("two", "two.example.com"));
  const Store::Result first = reload();
  fs::rename(dir_ / "b.yaml", dir_ / "a.yaml");
  const Store::Result second = reload();
  ASSERT_EQ(second.objects.size(), 1u);
  EXPECT_EQ(status(second, "one"), nullptr);
  ASSERT_NE(status(second, "two"), nullptr);
  EXPECT_EQ(status(second, "two")->source.file, path("a.yaml"));
  EXPECT_EQ(status(second, "two")->generation, 1);
}

TEST_F(IncrementalReloadTest, BadYamlInOneFileKeepsItsLastGoodObjects) {
  write("a.yaml", route_vs("one", "one.example.com"));
  write("b.yaml", route_vs("two", "two.example.com"));
  const Store::Result first = reload();
  write("b.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: two\n");
  const Store::Result broken = reload();
  EXPECT_TRUE(
      testing::has_diagnostic(broken.diagnostics, Diagnostic::Severity::Error, "", "YAML syntax error"));
  bool names_file = false;
  for (const Diagnostic& d : broken.diagnostics)
    names_file |= d.severity == Diagnostic::Severity::Error && d.source.file == path("b.yaml");
  EXPECT_TRUE(names_file);
  // b.yaml's object still serves, flagged; a.yaml's is untouched.
  ASSERT_NE(status(broken, "two"), nullptr);
  EXPECT_TRUE(status(broken, "two")->in_force);
  EXPECT_TRUE(status(broken, "two")->latest_rejected);
  EXPECT_EQ(served(broken, "two"), served(first, "two"));
  EXPECT_EQ(status(broken, "one"), status(first, "one"));
  // Fixed: served again as read, with a clean status.
  write("b.yaml", route_vs("two", "fixed.example.com"));
  const Store::Result fixed = reload();
  EXPECT_FALSE(status(fixed, "two")->latest_rejected);
  EXPECT_EQ(served(fixed, "two")->hosts[0], "fixed.example.com");
}

// An object kept from a file that no longer parses keeps its old load order,
// which may tie with a loaded object's: the ResourceSet of the reload and a
// later one from Store::resources() (a recompile on a DNS answer) must list
// them in one order, or a rule that sorts by load order could flip.
TEST_F(IncrementalReloadTest, KeptAndLoadedObjectsComeInOneOrder) {
  write("a.yaml", route_vs("aa", "aa.example.com"));
  write("b.yaml", route_vs("zz", "zz.example.com"));
  reload();
  write("a.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: aa\n");
  const Store::Result broken = reload();
  ASSERT_TRUE(status(broken, "aa")->latest_rejected);
  auto names = [](const ResourceSet& set) {
    std::vector<std::string> out;
    for (const VirtualService& v : set.virtual_services) out.push_back(v.meta.name);
    return out;
  };
  EXPECT_EQ(names(broken.resources), names(store_.resources()));
}

TEST_F(IncrementalReloadTest, KeyOrderAndDuplicatesWhenObjectsComeAndGo) {
  write("a.yaml", route_vs("b", "b.example.com") + "---\n" + route_vs("d", "d.example.com") + "---\n" +
                      route_vs("f", "f.example.com"));
  write("c.yaml", route_vs("h", "h.example.com"));
  reload();
  // New keys sorting between the old ones, and one defined a second time in
  // a later file (it wins, with a warning naming both places).
  write("b.yaml", route_vs("e", "e.example.com") + "---\n" + route_vs("a", "a.example.com"));
  write("d.yaml", route_vs("d", "later.example.com") + "---\n" + route_vs("c", "c.example.com"));
  Store::Result r = reload();
  ASSERT_EQ(r.objects.size(), 7u);
  for (size_t i = 1; i < r.objects.size(); ++i) EXPECT_LT(r.objects[i - 1]->key, r.objects[i]->key);
  EXPECT_EQ(served(r, "d")->hosts[0], "later.example.com");
  EXPECT_TRUE(testing::has_diagnostic(
      r.diagnostics, Diagnostic::Severity::Warning, "",
      "defined more than once (at " + path("a.yaml") + ":9 and " + path("d.yaml") + ":1)"));
  // The duplicate's files swap places: the other definition wins now.
  fs::rename(dir_ / "a.yaml", dir_ / "e.yaml");
  r = reload();
  EXPECT_EQ(served(r, "d")->hosts[0], "d.example.com");
  // And both go: no duplicate left.
  fs::remove(dir_ / "d.yaml");
  r = reload();
  ASSERT_EQ(r.objects.size(), 6u);
  for (size_t i = 1; i < r.objects.size(); ++i) EXPECT_LT(r.objects[i - 1]->key, r.objects[i]->key);
}

}  // namespace
}  // namespace torii::config
