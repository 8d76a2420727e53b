#include "sources/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "config/loader.h"

namespace torii::sources {

namespace fs = std::filesystem;

namespace {
constexpr uint32_t kDirMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                              IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

bool is_under_recursive(const std::unordered_set<std::string>& roots, const std::string& dir) {
  for (const std::string& root : roots) {
    if (dir == root || dir.rfind(root + "/", 0) == 0) return true;
  }
  return false;
}
}  // namespace

FileWatcher::FileWatcher(const std::vector<std::string>& paths) {
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;
  for (const std::string& p : paths) {
    std::error_code ec;
    fs::path path = fs::absolute(p, ec);
    if (fs::is_directory(path, ec)) {
      recursive_.insert(path.lexically_normal().string());
      watch_directory_tree(path.lexically_normal().string());
    } else {
      std::string parent = path.parent_path().lexically_normal().string();
      files_[parent].insert(path.filename().string());
      add_watch(parent);
    }
  }
}

FileWatcher::~FileWatcher() {
  if (fd_ >= 0) close(fd_);
}

void FileWatcher::add_watch(const std::string& dir) {
  int wd = inotify_add_watch(fd_, dir.c_str(), kDirMask);
  if (wd >= 0) dirs_[wd] = dir;
}

void FileWatcher::watch_directory_tree(const std::string& dir) {
  add_watch(dir);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) add_watch(it->path().string());
  }
}

bool FileWatcher::consume_events() {
  if (fd_ < 0) return false;
  bool relevant = false;
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: drained
    }
    if (n == 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        relevant = true;  // lost events: reload to be safe
        last_was_rename_ = false;
        continue;
      }
      auto dir_it = dirs_.find(ev->wd);
      if (dir_it == dirs_.end()) continue;
      const std::string dir = dir_it->second;
      if (ev->mask & IN_IGNORED) {
        dirs_.erase(dir_it);
        continue;
      }
      std::string name = ev->len > 0 ? std::string(ev->name) : std::string();
      const bool rename_into_place = (ev->mask & IN_MOVED_TO) && !name.empty() && name.front() != '.';
      auto files_it = files_.find(dir);
      // Named on its own (--config dir --config dir/extra.conf): read
      // whatever its name, so watched whatever its name.
      const bool named_file = files_it != files_.end() && files_it->second.count(name) != 0;
      if (is_under_recursive(recursive_, dir)) {
        // A file the loader would not read (a temp file, a hidden one)
        // changes nothing; "..data" swaps and directories still count.
        const bool skipped_file = !(ev->mask & IN_ISDIR) && !name.empty() && !name.starts_with("..") &&
                                  !named_file && !config::is_config_file_name(name);
        if (skipped_file) continue;
        relevant = true;
        last_was_rename_ = rename_into_place;
        if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
          watch_directory_tree(dir + "/" + name);
        }
        continue;
      }
      if (files_it == files_.end()) continue;
      // A configured file, or a ConfigMap-style `..data` symlink swap next to it.
      if (name.empty() || named_file || name.rfind("..", 0) == 0) {
        relevant = true;
        last_was_rename_ = rename_into_place;
      }
    }
  }
  return relevant;
}

}  // namespace torii::sources
