#include "config/store.h"

#include <algorithm>
#include <optional>

namespace torii::config {
namespace {

bool is_under(const std::string& file, const std::string& path) {
  if (file == path) return true;
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return file.size() > dir.size() && file.starts_with(dir) && file[dir.size()] == '/';
}

bool is_under_any(const std::string& file, const std::vector<std::string>& paths) {
  return std::any_of(paths.begin(), paths.end(), [&](const std::string& p) { return is_under(file, p); });
}

Diagnostic about(const ObjectKey& key, const SourceRef& source, Diagnostic::Severity severity,
                 std::string message) {
  Diagnostic d;
  d.severity = severity;
  d.source = source;
  d.kind = key.kind;
  d.namespace_ = key.namespace_;
  d.name = key.name;
  d.message = std::move(message);
  return d;
}

}  // namespace

std::vector<size_t> Store::key_order(const std::vector<LoadedObject>& objects) {
  // Stable: of two objects with one key (the loader keeps only the later),
  // the later in load order is taken last and wins.
  auto before = [&](size_t a, size_t b) {
    return objects[a].key < objects[b].key || (objects[a].key == objects[b].key && a < b);
  };
  // A reload mostly loads the same objects in the same order as the last
  // one (an edit changes contents, not keys): the last order, checked, is
  // then the order, for one comparison per object instead of a sort (the
  // sort was 37M instructions of a 25,000-object reload).
  if (last_order_.size() == objects.size()) {
    bool holds = true;
    for (size_t k = 1; k < last_order_.size() && holds; ++k)
      holds = before(last_order_[k - 1], last_order_[k]);
    if (holds) return last_order_;
  }
  std::vector<size_t> order(objects.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), before);
  last_order_ = order;
  return order;
}

Store::Result Store::apply(LoadResult loaded) {
  Result result;
  Diagnostics notes;

  // The load in key order, merged with in_force_ (also in key order): one
  // pass, no lookups, and both new maps are built from their ends. At 25,000
  // objects the lookups were most of apply()'s 200 ms.
  std::vector<size_t> order = key_order(loaded.objects);

  // Both in key order, as the merge visits the keys: sorted vectors rather
  // than maps (one allocation each instead of one per object).
  std::vector<std::pair<ObjectKey, Entry>> next;
  // Kept until the next apply(): sized for what it will hold (most loads
  // keep the objects in force), not left with the slack of doubling
  // (160 bytes an object: 4 MiB of 8 at 25,000 objects).
  next.reserve(std::max(in_force_.size(), loaded.objects.size()) + 16);
  std::vector<ObjectStatus>& statuses = result.objects;
  statuses.reserve(loaded.objects.size());
  auto previous = in_force_.begin();

  // An object in force that is not in this load: deleted, unless its file
  // could not be read completely, in which case it may well still be there.
  auto gone = [&](const ObjectKey& key, const Entry& entry) {
    const SourceRef& source = meta_of(*entry.object).source;
    if (!is_under_any(source.file, loaded.unreadable_paths)) return;
    ObjectStatus status;
    status.key = key;
    status.source = source;
    status.generation = entry.generation;
    status.in_force = true;
    status.latest_rejected = true;
    for (const Diagnostic& d : loaded.diagnostics) {
      if (d.severity == Diagnostic::Severity::Error && d.kind.empty() &&
          is_under(source.file, d.source.file)) {
        status.errors.push_back(d);
      }
    }
    notes.push_back(about(key, source, Diagnostic::Severity::Warning,
                          "not read this time because " + source.file +
                              " could not be read completely; generation " +
                              std::to_string(entry.generation) + " stays in force"));
    statuses.push_back(std::move(status));
    next.emplace_back(key, entry);
  };

  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    const LoadedObject& loaded_object = loaded.objects[i];
    const ObjectKey& key = loaded_object.key;
    if (k + 1 < order.size() && loaded.objects[order[k + 1]].key == key) continue;  // a later one wins
    for (; previous != in_force_.end() && previous->first < key; ++previous)
      gone(previous->first, previous->second);
    const bool had = previous != in_force_.end() && previous->first == key;

    ObjectStatus status;
    status.key = key;
    status.source = loaded_object.source;
    SharedObject object = loaded_object.valid ? std::move(loaded.typed[i]) : nullptr;
    if (object) {
      Entry entry{std::move(object), loaded_object.content_hash, 1, loaded_object.load_order};
      if (had && previous->second.content_hash == entry.content_hash) {
        entry.generation = previous->second.generation;
      } else if (had) {
        entry.generation = previous->second.generation + 1;
      }
      status.generation = entry.generation;
      status.in_force = true;
      next.emplace_back(had ? std::move(previous->first) : key, std::move(entry));
    } else {
      status.latest_rejected = true;
      status.errors = loaded_object.errors;
      if (had) {
        // istiod keeps serving the last accepted version of a rejected update.
        Entry entry = previous->second;
        // Ordered where its document is now, so it sorts consistently with
        // everything loaded this time.
        entry.load_order = loaded_object.load_order;
        status.generation = entry.generation;
        status.in_force = true;
        notes.push_back(about(key, loaded_object.source, Diagnostic::Severity::Warning,
                              "the latest version was rejected; generation " +
                                  std::to_string(entry.generation) + " stays in force"));
        next.emplace_back(key, std::move(entry));
      }
    }
    statuses.push_back(std::move(status));
    if (had) ++previous;
  }
  for (; previous != in_force_.end(); ++previous) gone(previous->first, previous->second);

  if (next.capacity() > next.size() + next.size() / 8 + 16) next.shrink_to_fit();
  in_force_ = std::move(next);
  result.resources = resources();

  result.diagnostics = std::move(loaded.diagnostics);
  result.diagnostics.insert(result.diagnostics.end(), notes.begin(), notes.end());
  return result;
}

ResourceSet Store::resources() const {
  std::vector<OrderedObject> objects;
  objects.reserve(in_force_.size());
  for (const auto& [key, entry] : in_force_) objects.push_back({entry.object, entry.load_order});
  return resource_set_of(std::move(objects));
}

}  // namespace torii::config
