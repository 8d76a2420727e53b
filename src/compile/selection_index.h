// Label-selector lookup without a scan: objects indexed by (namespace,
// label key, label value), so a Service selecting among N WorkloadEntries or
// Pods checks only those carrying its rarest label instead of all N (with
// 10,000 Services and WorkloadEntries the scan was quadratic).
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "config/resources.h"

namespace torii::compile {

template <typename T>
class SelectionIndex {
 public:
  // Call in resource order: candidates come back in that order.
  void add(const std::string& ns, const config::Labels& labels, const T* item) {
    by_namespace_[ns].push_back(item);
    for (const auto& [key, value] : labels) by_label_[{ns, key, value}].push_back(item);
  }

  // A superset of the objects of `ns` that `selector` selects (callers still
  // check labels_subset), in resource order; nullptr when none can match.
  const std::vector<const T*>* candidates(const std::string& ns, const config::Labels& selector) const {
    if (selector.empty()) {
      auto it = by_namespace_.find(ns);
      return it == by_namespace_.end() ? nullptr : &it->second;
    }
    const std::vector<const T*>* best = nullptr;
    for (const auto& [key, value] : selector) {
      auto it = by_label_.find({ns, key, value});
      if (it == by_label_.end()) return nullptr;  // nothing carries this label
      if (best == nullptr || it->second.size() < best->size()) best = &it->second;
    }
    return best;
  }

 private:
  std::map<std::string, std::vector<const T*>> by_namespace_;
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<const T*>> by_label_;
};

}  // namespace torii::compile
