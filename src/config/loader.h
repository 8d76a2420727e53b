// Reads multi-document YAML files (or directories of them) into typed
// resources. Every kind Torii does not use is skipped with one notice per
// kind; a YAML syntax error names file and line; a field of the wrong type or
// an invalid value names file, line, object and field path. Objects that fail
// are returned in `rejected` with their errors so the Store can keep their last
// good version.
#pragma once

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
  std::string content_hash;  // hash of the document's canonical text (for generations)
  bool valid = true;         // false => `errors` says why; not in `resources`
  Diagnostics errors;        // the errors of this object only
};

struct LoadResult {
  ResourceSet resources;             // valid objects only
  std::vector<LoadedObject> objects; // every object seen (valid and invalid)
  Diagnostics diagnostics;           // everything: errors, warnings, notices
};

// `paths` are files or directories (non-recursive? no: recursive, *.yaml/*.yml/*.json,
// sorted by path so load order is deterministic).
LoadResult load_paths(const std::vector<std::string>& paths, const LoadOptions& options);

// Parses YAML text as if it were the file `file_name` (for tests).
LoadResult load_string(const std::string& yaml, const std::string& file_name, const LoadOptions& options);

}  // namespace torii::config
