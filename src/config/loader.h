// Reads multi-document YAML files (or directories of them) into typed
// resources, validating each object (validate.h). Every kind Torii does not
// use is skipped with one notice per kind; a YAML syntax error names file and
// line; a field of the wrong type or an invalid value names file, line, object
// and field path. Objects that fail are listed in `objects` with valid=false
// and their errors (and left out of `resources`) so the Store can keep their
// last good version.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/diagnostic.h"
#include "config/object_key.h"
#include "config/resources.h"
#include "config/typed_object.h"

namespace torii::config {

struct LoadOptions {
  std::string default_namespace = "default";  // for objects without metadata.namespace
  // Threads that parse documents (the calling one included); 0: up to 4, as
  // the machine has cores and the documents are many. The result is the same
  // for any value.
  unsigned parse_threads = 0;
};

// One object as read, before the Store decides what is in force. Made for
// every object of every reload, so it copies nothing of the object: the
// object itself is shared with the load cache, and its key views into it.
struct LoadedObject {
  SharedObject object;        // as read; never null (also when invalid, then not in `resources`)
  ObjectKeyView key;          // views into `object`
  int64_t load_order = 0;     // position of its document (object's meta.load_order may be stale)
  uint64_t content_hash = 0;  // hash of the document's canonical text (for generations)
  bool valid = true;          // false => `errors` says why; not in `resources`
  Diagnostics errors;         // the errors of this object only
  const SourceRef& source() const { return meta_of(*object).source; }
};

struct LoadResult {
  std::vector<LoadedObject> objects;  // every object seen (valid and invalid), in load order
  // Indexes of `objects` in key order: the loader sorts them to find objects
  // defined twice (it leaves the later only: no two have one key), and the
  // Store merges them in this order with what is in force.
  std::vector<uint32_t> key_order;
  Diagnostics diagnostics;  // everything: errors, warnings, notices
  // Files or directories that could not be read completely (missing path, I/O
  // error, YAML syntax error, a document naming no object). Objects they held
  // may be missing from `objects` without having been deleted, so the Store
  // keeps the previous versions of objects that came from under these paths.
  std::vector<std::string> unreadable_paths;

  // The valid objects as a ResourceSet (shared, in load order).
  ResourceSet resources() const;
};

// What the previous load made of each file and document, so that a reload
// parses only the documents that changed: with 10,000 objects, YAML parsing
// is most of a reload's time. A file whose text is the same as last time is
// not even split into documents: its documents are taken as they were; and
// when stat() says nothing changed (device, inode, size, mtime, ctime), and
// the previous read came well after its last change, it is not even read. In a file that changed, a document
// is reused when its first line and text, and the default namespace, are all the same (its diagnostics name
// lines, so a moved document is parsed again; objects without metadata.namespace take the default namespace).
// Holds the previous load only; files and documents that are gone are dropped.
class LoadCache {
 public:
  LoadCache();
  ~LoadCache();
  LoadCache(LoadCache&&) noexcept;
  LoadCache& operator=(LoadCache&&) noexcept;

  struct Object;
  struct Document;
  struct File;
  struct Stats {
    size_t reused = 0;          // documents taken from the previous load
    size_t parsed = 0;          // documents parsed this time
    size_t files_read = 0;      // files of this load
    size_t files_changed = 0;   // of them, whose text is not the previous load's
    size_t files_not_read = 0;  // of them, known unchanged from stat() alone
    // Summed over the parsing threads: YAML and typed reading, and validate.h's checks.
    int64_t parse_us = 0;
    int64_t validate_us = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  friend class Loader;
  // By default namespace and path: the file's text hash and its documents.
  std::unordered_map<std::string, std::shared_ptr<const File>> files_;
  // The objects of the previous load (held by files_) in key order: the next
  // load takes the ones it reuses in this order and sorts only the others.
  // A load takes it out when it starts (as it does files_), and leaves its own.
  std::vector<const Object*> key_order_;
  bool key_order_distinct_ = false;  // no two of key_order_ have one key
  uint32_t loads_ = 0;               // loads made with this cache (marks the objects each one takes)
  Stats stats_;
};

// Text read as if it were a file named `name` (an etcd key, stdin): after
// the files, in the order given.
struct NamedText {
  std::string name;
  std::string text;
  std::string default_namespace;  // for its objects without metadata.namespace; empty: LoadOptions'
};

// Would the loader read a file of this name found in a config directory?
// (.yaml, .yml or .json, and not hidden: a Kubernetes ConfigMap volume holds
// every file twice more under "..data" and "..<timestamp>".) The file
// watcher asks too, so writing an editor's or a tool's temp file next to
// the manifests triggers no reload.
bool is_config_file_name(std::string_view file_name);

// `paths` are files or directories. A directory is read recursively (*.yaml,
// *.yml, *.json, sorted by path so load order is deterministic); a file named
// explicitly is read whatever its extension. Paths are read in the order given.
// With a cache, documents unchanged since the previous call are not parsed
// again, and the cache is updated to this load.
LoadResult load_paths(const std::vector<std::string>& paths, const LoadOptions& options,
                      LoadCache* cache = nullptr, const std::vector<NamedText>& texts = {});

// Parses YAML text as if it were the file `file_name` (for tests).
LoadResult load_string(const std::string& yaml, const std::string& file_name, const LoadOptions& options);

}  // namespace torii::config
