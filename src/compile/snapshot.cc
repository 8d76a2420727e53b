#include "compile/snapshot.h"

namespace torii::compile {

const Listener* Snapshot::find_listener(const std::string& name) const {
  for (const Listener& l : listeners) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

const upstream::ClusterInfo* Snapshot::find_cluster(const std::string& name) const {
  auto it = clusters_by_name.find(name);
  return it == clusters_by_name.end() ? nullptr : it->second;
}

}  // namespace torii::compile
