// Label selection as Kubernetes and Istio use it everywhere: a selector
// matches when every one of its key/value pairs is among the labels. An
// empty selector matches everything (callers that mean "selects nothing"
// check for emptiness first, as Kubernetes Services do).
#pragma once

#include <algorithm>

#include "config/resources.h"

namespace torii::compile {

inline bool labels_subset(const config::Labels& selector, const config::Labels& labels) {
  return std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
    auto it = labels.find(kv.first);
    return it != labels.end() && it->second == kv.second;
  });
}

}  // namespace torii::compile
