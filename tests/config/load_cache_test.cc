// LoadCache: a reload parses only the documents that changed, and what it
// gives is exactly what a load without the cache gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "config/loader.h"
#include "config/store.h"
#include "test_util.h"

namespace torii::config {
namespace {

namespace fs = std::filesystem;
using testing::route_vs;

class LoadCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("torii_load_cache");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  LoadResult load_cached() { return load_paths({dir_.string()}, LoadOptions{}, &cache_); }
  LoadResult load_plain() { return load_paths({dir_.string()}, LoadOptions{}); }

  static std::vector<std::string> formatted(const Diagnostics& diagnostics) {
    std::vector<std::string> out;
    for (const Diagnostic& d : diagnostics) out.push_back(d.format());
    return out;
  }
  // What a load says, in a comparable form: keys, validity, order, diagnostics.
  static std::vector<std::string> summary(const LoadResult& r) {
    std::vector<std::string> out = formatted(r.diagnostics);
    for (size_t i = 0; i < r.objects.size(); ++i) {
      const LoadedObject& o = r.objects[i];
      out.push_back(o.key.str() + " at " + o.source().file + ":" + std::to_string(o.source().line) +
                    " order " + std::to_string(o.load_order) + (o.valid ? " valid" : " invalid") + " hash " +
                    std::to_string(o.content_hash) + (o.valid ? " typed" : ""));
    }
    for (const VirtualService& v : r.resources().virtual_services) {
      out.push_back("vs " + v.meta.name + " order " + std::to_string(v.meta.load_order));
    }
    return out;
  }

  fs::path dir_;
  LoadCache cache_;
};

TEST_F(LoadCacheTest, UnchangedDocumentsAreNotParsedAgain) {
  write("a.yaml", route_vs("one", "one.example.com") + "---\n" + route_vs("two", "two.example.com"));
  write("b.yaml", route_vs("three", "three.example.com"));
  const LoadResult first = load_cached();
  EXPECT_EQ(cache_.stats().parsed, 3u);
  EXPECT_EQ(cache_.stats().reused, 0u);

  const LoadResult second = load_cached();
  EXPECT_EQ(cache_.stats().parsed, 0u);
  EXPECT_EQ(cache_.stats().reused, 3u);
  EXPECT_EQ(summary(second), summary(first));
  // Shared, not copied.
  EXPECT_EQ(second.objects[0].object.get(), first.objects[0].object.get());
}

TEST_F(LoadCacheTest, AnUnchangedFileIsNotSplitAgain) {
  write("a.yaml", route_vs("one", "one.example.com") + "---\n" + route_vs("two", "two.example.com"));
  write("b.yaml", route_vs("three", "three.example.com"));
  load_cached();
  EXPECT_EQ(cache_.stats().files_read, 2u);
  EXPECT_EQ(cache_.stats().files_changed, 2u);

  write("b.yaml", route_vs("three", "changed.example.com"));
  const LoadResult r = load_cached();
  EXPECT_EQ(cache_.stats().files_read, 2u);
  EXPECT_EQ(cache_.stats().files_changed, 1u);  // a.yaml taken whole
  EXPECT_EQ(cache_.stats().parsed, 1u);
  EXPECT_EQ(cache_.stats().reused, 2u);
  EXPECT_EQ(summary(r), summary(load_plain()));
}

TEST_F(LoadCacheTest, AFileUnchangedForAWhileIsNotReadAgain) {
  write("a.yaml", route_vs("one", "one.example.com"));
  write("b.yaml", route_vs("two", "two.example.com"));
  // Read well after their last change (the loader's racy window is 100 ms;
  // sleeping longer is a lower bound, not a race): stat() can stand for the
  // text from then on.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  load_cached();
  EXPECT_EQ(cache_.stats().files_not_read, 0u);

  write("b.yaml", route_vs("two", "changed.example.com"));  // b's mtime is now
  const LoadResult r = load_cached();
  EXPECT_EQ(cache_.stats().files_read, 2u);
  EXPECT_EQ(cache_.stats().files_not_read, 1u);  // a.yaml
  EXPECT_EQ(cache_.stats().files_changed, 1u);   // b.yaml
  EXPECT_EQ(summary(r), summary(load_plain()));

  // A file changed too close to its read is read again each time (a second
  // write in the same timestamp tick would look the same to stat()). An
  // mtime in the future is always that close, whatever the machine's speed.
  fs::last_write_time(dir_ / "b.yaml", fs::file_time_type::clock::now() + std::chrono::hours(1));
  load_cached();
  load_cached();
  EXPECT_EQ(cache_.stats().files_not_read, 1u);  // a.yaml only
  EXPECT_EQ(cache_.stats().files_changed, 0u);
}

TEST_F(LoadCacheTest, SharedObjectsTakeTheLoadOrderOfTheLatestLoad) {
  write("b.yaml", route_vs("two", "two.example.com"));
  const LoadResult first = load_cached();
  const ResourceSet before = first.resources();
  ASSERT_EQ(before.virtual_services.size(), 1u);
  EXPECT_EQ(before.virtual_services[0].meta.load_order, 0);

  // Two documents before it now: the same object, two places later.
  write("a.yaml", route_vs("zero", "zero.example.com") + "---\n" + route_vs("one", "one.example.com"));
  const LoadResult second = load_cached();
  const ResourceSet after = second.resources();
  ASSERT_EQ(after.virtual_services.size(), 3u);
  EXPECT_EQ(&after.virtual_services[2], &before.virtual_services[0]);  // not copied
  EXPECT_EQ(after.virtual_services[2].meta.load_order, 2);
  EXPECT_EQ(summary(second), summary(load_plain()));
}

TEST_F(LoadCacheTest, ParsingOnThreadsGivesWhatOneThreadGives) {
  // Enough documents for several threads, with what must stay in order: a
  // name defined twice (the later wins, with a warning naming both places),
  // an invalid object, a skipped kind, and a syntax error that ends its file.
  for (const char* file : {"a.yaml", "b.yaml", "c.yaml"}) {
    std::string text;
    for (int i = 0; i < 300; ++i) {
      if (i > 0) text += "---\n";
      const std::string name = std::string(1, file[0]) + std::to_string(i);
      if (file[0] == 'b' && i == 150) {
        text += "kind: [unclosed\n";
      } else if (i == 7) {
        text += route_vs("shared", std::string(file) + ".example.com");
      } else if (i == 8) {
        text += route_vs("bad" + name, "not a host!");
      } else if (i == 9) {
        text += "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n";
      } else {
        text += route_vs(name, name + ".example.com");
      }
    }
    write(file, text);
  }
  LoadOptions one_thread;
  one_thread.parse_threads = 1;
  LoadOptions four_threads;
  four_threads.parse_threads = 4;
  const LoadResult sequential = load_paths({dir_.string()}, one_thread);
  EXPECT_EQ(summary(load_paths({dir_.string()}, four_threads)), summary(sequential));
  EXPECT_EQ(summary(load_paths({dir_.string()}, four_threads, &cache_)), summary(sequential));
  EXPECT_EQ(cache_.stats().parsed, 300u + 151u + 300u);  // b.yaml is read up to its syntax error
  // And the summary is not trivially equal: the cases above are in it.
  // Objects (the ConfigMaps skipped, the invalid ones listed): "shared" three times, kept once.
  EXPECT_EQ(sequential.objects.size(), 299u + 149u + 299u - 2u);
  EXPECT_TRUE(std::any_of(sequential.diagnostics.begin(), sequential.diagnostics.end(),
                          [](const Diagnostic& d) { return d.message.find("YAML syntax error") == 0; }));
}

TEST_F(LoadCacheTest, ADifferentDefaultNamespaceParsesAgain) {
  write("a.yaml", route_vs("one", "one.example.com"));
  load_cached();
  LoadOptions other;
  other.default_namespace = "other";
  const LoadResult r = load_paths({dir_.string()}, other, &cache_);
  EXPECT_EQ(cache_.stats().parsed, 1u);
  EXPECT_EQ(cache_.stats().reused, 0u);
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0].key.namespace_, "other");
  EXPECT_EQ(summary(r), summary(load_paths({dir_.string()}, other)));
}

TEST_F(LoadCacheTest, ChangedDocumentIsParsedAndOrderStaysRight) {
  write("b.yaml", route_vs("two", "two.example.com") + "---\n" + route_vs("three", "three.example.com"));
  load_cached();
  // A new file sorting first shifts the load order of everything after it.
  write("a.yaml", route_vs("one", "one.example.com"));
  write("b.yaml", route_vs("two", "changed.example.com") + "---\n" + route_vs("three", "three.example.com"));
  const LoadResult r = load_cached();
  EXPECT_EQ(cache_.stats().parsed, 2u);
  EXPECT_EQ(cache_.stats().reused, 1u);
  EXPECT_EQ(summary(r), summary(load_plain()));
  const ResourceSet set = r.resources();
  ASSERT_EQ(set.virtual_services.size(), 3u);
  EXPECT_EQ(set.virtual_services[1].hosts[0], "changed.example.com");
  EXPECT_LT(set.virtual_services[1].meta.load_order, set.virtual_services[2].meta.load_order);
}

TEST_F(LoadCacheTest, DiagnosticsSkipsAndBrokenFilesAreReplayed) {
  write("a.yaml", route_vs("bad", "bad host with spaces"));
  write("b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: y}\n");
  write("c.yaml", route_vs("ok", "ok.example.com") + "---\nkind: [unclosed\n---\n" +
                      route_vs("never", "n.example.com"));
  write("d.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {}\n");
  const LoadResult first = load_cached();
  ASSERT_FALSE(first.unreadable_paths.empty());
  ASSERT_TRUE(testing::has_error(first, "spec.hosts[0]", ""));
  const LoadResult second = load_cached();
  EXPECT_EQ(cache_.stats().parsed, 0u);
  EXPECT_EQ(summary(second), summary(first));
  EXPECT_EQ(second.unreadable_paths, first.unreadable_paths);
  EXPECT_EQ(summary(second), summary(load_plain()));
}

TEST_F(LoadCacheTest, MovedDocumentIsParsedAgainForItsLines) {
  write("a.yaml", route_vs("one", "one.example.com"));
  load_cached();
  write("a.yaml", "# a comment now comes first\n" + route_vs("one", "one.example.com"));
  const LoadResult r = load_cached();
  EXPECT_EQ(cache_.stats().parsed, 1u);
  ASSERT_EQ(r.objects.size(), 1u);
  EXPECT_EQ(r.objects[0].source().line, 2);
}

TEST_F(LoadCacheTest, StoreKeepsLastGoodVersionAcrossCachedLoads) {
  Store store;
  write("a.yaml", route_vs("one", "one.example.com"));
  store.apply(load_cached());
  write("a.yaml", route_vs("one", "bad host"));
  const Store::Result rejected = store.apply(load_cached());
  ASSERT_EQ(rejected.resources.virtual_services.size(), 1u);
  EXPECT_EQ(rejected.resources.virtual_services[0].hosts[0], "one.example.com");
  // The same bad file again comes from the cache and is still rejected.
  const Store::Result again = store.apply(load_cached());
  EXPECT_EQ(cache_.stats().reused, 1u);
  ASSERT_EQ(again.resources.virtual_services.size(), 1u);
  EXPECT_EQ(again.resources.virtual_services[0].hosts[0], "one.example.com");
  ASSERT_EQ(again.objects.size(), 1u);
  EXPECT_TRUE(again.objects[0]->latest_rejected);
}

}  // namespace
}  // namespace torii::config
