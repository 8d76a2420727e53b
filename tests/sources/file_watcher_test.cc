#include "sources/file_watcher.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace torii::sources {
namespace {

namespace fs = std::filesystem;

class FileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/torii-watch-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  // Waits up to 1 s for the watcher to report a relevant change.
  static bool changed(FileWatcher& w) {
    for (int i = 0; i < 20; ++i) {
      pollfd p{w.fd(), POLLIN, 0};
      if (poll(&p, 1, 50) > 0 && w.consume_events()) return true;
    }
    return false;
  }

  // Drains events until none came for 100 ms; true if any was relevant.
  static bool drained(FileWatcher& w) {
    bool any = false;
    for (;;) {
      pollfd p{w.fd(), POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) return any;
      any = w.consume_events() || any;
    }
  }

  fs::path dir_;
};

TEST_F(FileWatcherTest, SaysWhenTheLastEventWasARenameIntoPlace) {
  write(dir_ / "a.yaml", "a: 1\n");
  for (const std::string& watched : {dir_.string(), (dir_ / "a.yaml").string()}) {
    FileWatcher w({watched});
    // Written in place: not a rename.
    write(dir_ / "a.yaml", "a: 2\n");
    ASSERT_TRUE(drained(w)) << watched;
    EXPECT_FALSE(w.last_was_rename()) << watched;
    // A hidden temp file moved into place, as write_atomic does.
    write(dir_ / ".a.yaml.tmp", "a: 3\n");
    fs::rename(dir_ / ".a.yaml.tmp", dir_ / "a.yaml");
    ASSERT_TRUE(drained(w)) << watched;
    EXPECT_TRUE(w.last_was_rename()) << watched;
    // Then removed: the last event is no rename.
    fs::remove(dir_ / "a.yaml");
    ASSERT_TRUE(drained(w)) << watched;
    EXPECT_FALSE(w.last_was_rename()) << watched;
    write(dir_ / "a.yaml", "a: 1\n");
    drained(w);
  }
}

TEST_F(FileWatcherTest, SeesEditsCreationsAndDeletionsInDirectoryTree) {
  fs::create_directories(dir_ / "sub");
  write(dir_ / "sub" / "a.yaml", "a: 1\n");
  FileWatcher w({dir_.string()});
  ASSERT_GE(w.fd(), 0);
  EXPECT_FALSE(changed(w));

  write(dir_ / "sub" / "a.yaml", "a: 2\n");
  EXPECT_TRUE(changed(w));
  write(dir_ / "b.yaml", "b: 1\n");
  EXPECT_TRUE(changed(w));
  fs::remove(dir_ / "b.yaml");
  EXPECT_TRUE(changed(w));

  // A directory created after start is watched too.
  fs::create_directories(dir_ / "new");
  EXPECT_TRUE(changed(w));
  write(dir_ / "new" / "c.yaml", "c: 1\n");
  EXPECT_TRUE(changed(w));
}

// Files the loader would not read change nothing: an editor's or a tool's
// temp file written next to the manifests triggers no reload.
TEST_F(FileWatcherTest, FilesTheLoaderSkipsAreIgnoredInADirectory) {
  FileWatcher w({dir_.string()});
  write(dir_ / "x.yaml.tmp", "a: 1\n");
  write(dir_ / ".hidden.yaml", "a: 1\n");
  write(dir_ / "notes.txt", "x");
  fs::remove(dir_ / "x.yaml.tmp");
  EXPECT_FALSE(drained(w));
  write(dir_ / "b.json", "{}");
  EXPECT_TRUE(changed(w));
  // A ConfigMap-style "..data" swap still counts.
  fs::create_directories(dir_ / "..2026_12_05");
  drained(w);
  fs::create_directory_symlink(dir_ / "..2026_12_05", dir_ / "..data_tmp");
  fs::rename(dir_ / "..data_tmp", dir_ / "..data");
  EXPECT_TRUE(drained(w));
}

// A file named on its own is read whatever its name, so it is watched
// whatever its name, also inside a watched directory.
TEST_F(FileWatcherTest, AFileNamedOnItsOwnInAWatchedDirectoryIsWatched) {
  write(dir_ / "extra.conf", "a: 1\n");
  FileWatcher w({dir_.string(), (dir_ / "extra.conf").string()});
  write(dir_ / "notes.txt", "x");
  EXPECT_FALSE(drained(w));
  write(dir_ / "extra.conf", "a: 2\n");
  EXPECT_TRUE(drained(w));
}

TEST_F(FileWatcherTest, SingleFileReplacedByRenameIsSeenAndSiblingsAreIgnored) {
  write(dir_ / "vs.yaml", "a: 1\n");
  FileWatcher w({(dir_ / "vs.yaml").string()});
  write(dir_ / "unrelated.txt", "x");
  EXPECT_FALSE(changed(w));

  write(dir_ / ".vs.yaml.tmp", "a: 2\n");
  fs::rename(dir_ / ".vs.yaml.tmp", dir_ / "vs.yaml");
  EXPECT_TRUE(changed(w));

  // And the watch survives the rename: a second replacement is seen as well.
  write(dir_ / ".vs.yaml.tmp", "a: 3\n");
  fs::rename(dir_ / ".vs.yaml.tmp", dir_ / "vs.yaml");
  EXPECT_TRUE(changed(w));
}

}  // namespace
}  // namespace torii::sources
