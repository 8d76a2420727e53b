// Reads multi-document YAML files (or directories of them) into typed
// resources, validating each object (validate.h). Every kind Torii does not
// use is skipped with one notice per kind; a YAML syntax error names file and
// line; a field of the wrong type or an invalid value names file, line, object
// and field path. Objects that fail are listed in `objects` with valid=false
// and their errors (and left out of `resources`) so the Store can keep their
// last good version.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/diagnostic.h"
#include "config/resources.h"

namespace torii::config {

struct LoadOptions {
  std::string default_namespace = "default";  // for objects without metadata.namespace
};

// Identity of an object across reloads.
struct ObjectKey {
  std::string kind;  // "VirtualService", "Service", ...
  std::string namespace_;
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
  std::string str() const;  // "VirtualService default/httpbin"
};

// One object as read, before the Store decides what is in force.
struct LoadedObject {
  ObjectKey key;
  SourceRef source;
  int64_t load_order = 0;    // position of its document (as ObjectMeta::load_order)
  std::string content_hash;  // hash of the document's canonical text (for generations)
  bool valid = true;         // false => `errors` says why; not in `resources`
  Diagnostics errors;        // the errors of this object only
};

struct LoadResult {
  ResourceSet resources;              // valid objects only
  std::vector<LoadedObject> objects;  // every object seen (valid and invalid)
  Diagnostics diagnostics;            // everything: errors, warnings, notices
  // Files or directories that could not be read completely (missing path, I/O
  // error, YAML syntax error, a document naming no object). Objects they held
  // may be missing from `objects` without having been deleted, so the Store
  // keeps the previous versions of objects that came from under these paths.
  std::vector<std::string> unreadable_paths;
};

// `paths` are files or directories. A directory is read recursively (*.yaml,
// *.yml, *.json, sorted by path so load order is deterministic); a file named
// explicitly is read whatever its extension. Paths are read in the order given.
LoadResult load_paths(const std::vector<std::string>& paths, const LoadOptions& options);

// Parses YAML text as if it were the file `file_name` (for tests).
LoadResult load_string(const std::string& yaml, const std::string& file_name, const LoadOptions& options);

}  // namespace torii::config
