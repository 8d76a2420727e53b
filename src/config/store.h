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
#include <memory>
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

// Shared: an object unchanged since the last reload keeps its status.
using ObjectStatuses = std::vector<std::shared_ptr<const ObjectStatus>>;

class Store {
 public:
  struct Result {
    ResourceSet resources;  // what to compile
    // Sorted by key. An object whose document is unchanged since the last
    // apply() keeps its status (the same pointer): with 25,000 objects, a new
    // status each (strings copied) was most of a reload's bookkeeping.
    ObjectStatuses objects;
    Diagnostics diagnostics;  // from the load
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
    std::shared_ptr<const ObjectStatus> status;  // the last apply()'s; its key is the entry's
    uint64_t content_hash = 0;                   // LoadedObject::content_hash
    int64_t generation = 0;
    int64_t load_order = 0;  // where its document is now (the object's own may be stale)
    const ObjectKey& key() const { return status->key; }
  };

  // Indexes of `loaded.objects` in key order (equal keys in load order).
  static std::vector<uint32_t> key_order(const LoadResult& loaded);

  std::vector<Entry> in_force_;  // sorted by key
};

}  // namespace torii::config
