// Watches configuration files and directories with inotify and says when
// something under them may have changed. It does not say what: the control
// plane reloads every file and the Store works out which objects changed,
// which keeps this simple and makes missed-event bugs impossible to turn into
// stale config (every reload reads everything).
//
// Files are watched through their parent directory, so editors and tools that
// replace a file by rename (vim, `kubectl`-style atomic writes, ConfigMap
// symlink swaps) are seen. Directories are watched recursively; new
// subdirectories are added as they appear.
//
// Used from the control thread only.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace torii::sources {

class FileWatcher {
 public:
  explicit FileWatcher(const std::vector<std::string>& paths);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // The inotify descriptor to poll for readability; -1 if inotify failed.
  int fd() const { return fd_; }

  // Drains pending events; true if any concerns a watched path.
  bool consume_events();
  // The last event consume_events() found relevant was a rename onto a
  // visible name (a writer's temp file moved into place, as editors,
  // `kubectl`-style tools and tests/e2e/harness.py write_atomic do): the
  // write is complete, and a short settle is enough before reloading.
  bool last_was_rename() const { return last_was_rename_; }

 private:
  void watch_directory_tree(const std::string& dir);
  void add_watch(const std::string& dir);

  int fd_ = -1;
  bool last_was_rename_ = false;
  // watch descriptor -> directory
  std::unordered_map<int, std::string> dirs_;
  // directories watched recursively (configured directories and their children)
  std::unordered_set<std::string> recursive_;
  // for configured files: parent directory -> base names of interest
  std::unordered_map<std::string, std::unordered_set<std::string>> files_;
};

}  // namespace torii::sources
