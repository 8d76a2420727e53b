// The set of objects in force, across reloads.
//
// Each apply() replaces the whole content with what was loaded, except that an
// object which is now invalid keeps its last good version (istiod's behaviour
// for a rejected update: the previous accepted version stays). An object that
// disappeared from the files is deleted. Generations count content changes of
// one object, like metadata.generation in Kubernetes.
//
// Used from the control thread only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "config/typed_object.h"

namespace torii::config {

struct ObjectStatus {
  ObjectKey key;
  SourceRef source;
  int64_t generation = 0;        // of the version in force (0 if none)
  bool in_force = false;         // some version of it is being served
  bool latest_rejected = false;  // the latest version failed; an older one may be in force
  Diagnostics errors;            // why the latest version was rejected
};

class Store {
 public:
  struct Result {
    ResourceSet resources;              // what to compile
    std::vector<ObjectStatus> objects;  // sorted by key
    Diagnostics diagnostics;            // from the load
  };

  Result apply(LoadResult loaded);

  // The objects in force as a ResourceSet (shared, in load order), as the
  // last apply() returned it.
  ResourceSet resources() const;

 private:
  // The version of one object that is in force.
  // The object is shared with the load (and its cache), never copied here.
  struct Entry {
    SharedObject object;
    uint64_t content_hash = 0;  // LoadedObject::content_hash
    int64_t generation = 0;
    int64_t load_order = 0;  // where its document is now (the object's own may be stale)
  };

  // Indexes of `objects` in key order (equal keys in load order).
  std::vector<size_t> key_order(const std::vector<LoadedObject>& objects);

  std::vector<std::pair<ObjectKey, Entry>> in_force_;  // sorted by key
  std::vector<size_t> last_order_;                     // key_order() of the last load
};

}  // namespace torii::config
