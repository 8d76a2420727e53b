#include "compile/route_cache.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace torii::compile {

void RouteCache::begin(const config::ObjectList<config::VirtualService>& virtual_services,
                       bool clusters_shared) {
  ++compile_;
  shared_ = 0;
  if (!clusters_shared) entries_.clear();
  current_ = virtual_services;
  scans_left_ = kScanBudget;
  sorted_current_.clear();
}

void RouteCache::end() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    std::erase_if(it->second, [this](const Slot& slot) { return slot.entry.used != compile_; });
    it = it->second.empty() ? entries_.erase(it) : std::next(it);
  }
  // Every entry left is of a VS in `current_`: the older objects may go.
  held_ = std::move(current_);
  current_ = {};
  sorted_current_ = {};
}

RouteCache::Entry* RouteCache::find(const Key& key) {
  auto it = entries_.find(key.vs);
  if (it == entries_.end()) return nullptr;
  for (Slot& slot : it->second) {
    if (slot.port == key.port && slot.tls == key.tls && slot.gateway == key.gateway &&
        slot.table == key.table)
      return &slot.entry;
  }
  return nullptr;
}

bool RouteCache::in_current(const config::VirtualService* vs) {
  if (scans_left_ > 0) {
    --scans_left_;
    for (const config::VirtualService& v : current_)
      if (&v == vs) return true;
    return false;
  }
  if (sorted_current_.empty()) {
    sorted_current_.reserve(current_.size());
    for (const config::VirtualService& v : current_) sorted_current_.push_back(&v);
    std::sort(sorted_current_.begin(), sorted_current_.end());
  }
  return std::binary_search(sorted_current_.begin(), sorted_current_.end(), vs);
}

void RouteCache::keep(const Key& key, Entry entry) {
  if (!in_current(key.vs)) return;  // made by this compile: see the class comment
  entry.used = compile_;
  if (Entry* existing = find(key)) {
    *existing = std::move(entry);
    return;
  }
  entries_[key.vs].push_back(
      Slot{std::string(key.table), std::string(key.gateway), key.port, key.tls, std::move(entry)});
}

}  // namespace torii::compile
