#include "config/store.h"

#include <algorithm>
#include <optional>
#include <string_view>

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

std::vector<uint32_t> Store::key_order(const LoadResult& loaded) {
  // The loader sorts its objects by key anyway (to find objects defined
  // twice), keeping most of the last load's order: taken as it is.
  if (loaded.key_order.size() == loaded.objects.size()) return loaded.key_order;
  const std::vector<LoadedObject>& objects = loaded.objects;
  // Stable: of two objects with one key (the loader keeps only the later),
  // the later in load order is taken last and wins.
  std::vector<uint32_t> order(objects.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return objects[a].key < objects[b].key; });
  return order;
}

Store::Result Store::apply(LoadResult loaded) {
  Result result;
  Diagnostics notes;

  // The load in key order, merged with in_force_ (also in key order): one
  // pass, no lookups, and both new lists are built from their ends. At 25,000
  // objects the lookups were most of apply()'s 200 ms.
  const std::vector<uint32_t> order = key_order(loaded);
  const size_t n = loaded.objects.size();
  const bool unchecked = loaded.key_order.size() != n;  // not from the loader: may hold a key twice

  // Kept until the next apply(): sized for what it will hold (most loads
  // keep the objects in force), not left with the slack of doubling.
  std::vector<Entry> next;
  next.reserve(std::max(in_force_.size(), n) + 16);
  ObjectStatuses& statuses = result.objects;
  statuses.reserve(n);
  // For each loaded object, the entry of `next` in force for it: the
  // ResourceSet is made in load order from these, without sorting.
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> entry_of(n, kNone);
  std::vector<uint32_t> kept_unread;  // entries of `next` from files not read completely
  auto previous = in_force_.begin();

  // An object in force that is not in this load: deleted, unless its file
  // could not be read completely, in which case it may well still be there.
  auto gone = [&](Entry& entry) {
    const SourceRef& source = meta_of(*entry.object).source;
    if (!is_under_any(source.file, loaded.unreadable_paths)) return;
    auto status = std::make_shared<ObjectStatus>();
    status->key = entry.key();
    status->source = source;
    status->generation = entry.generation;
    status->in_force = true;
    status->latest_rejected = true;
    for (const Diagnostic& d : loaded.diagnostics) {
      if (d.severity == Diagnostic::Severity::Error && d.kind.empty() &&
          is_under(source.file, d.source.file)) {
        status->errors.push_back(d);
      }
    }
    notes.push_back(about(entry.key(), source, Diagnostic::Severity::Warning,
                          "not read this time because " + source.file +
                              " could not be read completely; generation " +
                              std::to_string(entry.generation) + " stays in force"));
    Entry kept = std::move(entry);
    kept.status = status;
    statuses.push_back(std::move(status));
    kept_unread.push_back(static_cast<uint32_t>(next.size()));
    next.push_back(std::move(kept));
  };

  for (size_t k = 0; k < order.size(); ++k) {
    const uint32_t i = order[k];
    const LoadedObject& loaded_object = loaded.objects[i];
    const ObjectKeyView key = loaded_object.key;
    // A later one wins (the loader leaves no two with one key).
    if (unchecked && k + 1 < order.size() && loaded.objects[order[k + 1]].key == key) continue;
    // The very object in force (its document is unchanged) has its key: no
    // comparing keys, for most objects of most reloads.
    const bool same = previous != in_force_.end() && previous->object == loaded_object.object;
    if (!same) {
      for (; previous != in_force_.end() && ObjectKeyView(previous->key()) < key; ++previous) gone(*previous);
    }
    const bool had = same || (previous != in_force_.end() && ObjectKeyView(previous->key()) == key);

    if (loaded_object.valid) {
      if (same && !previous->status->latest_rejected) {
        // So is its status. O(1), nothing copied.
        Entry entry = std::move(*previous);
        entry.load_order = loaded_object.load_order;
        statuses.push_back(entry.status);
        entry_of[i] = static_cast<uint32_t>(next.size());
        next.push_back(std::move(entry));
        ++previous;
        continue;
      }
      auto status = std::make_shared<ObjectStatus>();
      status->key = had ? previous->key() : key.owned();
      status->source = loaded_object.source();
      Entry entry{loaded_object.object, nullptr, loaded_object.content_hash, 1, loaded_object.load_order};
      if (had && previous->content_hash == entry.content_hash) {
        entry.generation = previous->generation;
      } else if (had) {
        entry.generation = previous->generation + 1;
      }
      status->generation = entry.generation;
      status->in_force = true;
      entry.status = status;
      statuses.push_back(std::move(status));
      entry_of[i] = static_cast<uint32_t>(next.size());
      next.push_back(std::move(entry));
    } else {
      auto status = std::make_shared<ObjectStatus>();
      status->key = had ? previous->key() : key.owned();
      status->source = loaded_object.source();
      status->latest_rejected = true;
      status->errors = loaded_object.errors;
      if (had) {
        // istiod keeps serving the last accepted version of a rejected update.
        Entry entry = std::move(*previous);
        // Ordered where its document is now, so it sorts consistently with
        // everything loaded this time.
        entry.load_order = loaded_object.load_order;
        status->generation = entry.generation;
        status->in_force = true;
        notes.push_back(about(status->key, loaded_object.source(), Diagnostic::Severity::Warning,
                              "the latest version was rejected; generation " +
                                  std::to_string(entry.generation) + " stays in force"));
        entry.status = status;
        entry_of[i] = static_cast<uint32_t>(next.size());
        next.push_back(std::move(entry));
      }
      statuses.push_back(std::move(status));
    }
    if (had) ++previous;
  }
  for (; previous != in_force_.end(); ++previous) gone(*previous);

  // The ResourceSet, in load order: the loaded objects' entries. With
  // objects kept from files not read completely, whose old load order may
  // tie with a loaded object's, it is made as resources() makes it (key
  // order, then a stable sort by load order), so a later recompile from
  // resources() (a DNS answer, a JWKS fetch) sees the same order.
  std::vector<OrderedObject> objects;
  objects.reserve(next.size());
  if (kept_unread.empty()) {
    for (uint32_t slot : entry_of) {
      if (slot != kNone) objects.push_back({&next[slot].object, next[slot].load_order});
    }
  } else {
    for (const Entry& entry : next) objects.push_back({&entry.object, entry.load_order});
  }
  // Before `next` moves (it may be reallocated): `objects` points into it.
  result.resources = resource_set_of(std::move(objects));

  if (next.capacity() > next.size() + next.size() / 8 + 16) next.shrink_to_fit();
  in_force_ = std::move(next);

  result.diagnostics = std::move(loaded.diagnostics);
  result.diagnostics.insert(result.diagnostics.end(), notes.begin(), notes.end());
  return result;
}

ResourceSet Store::resources() const {
  std::vector<OrderedObject> objects;
  objects.reserve(in_force_.size());
  for (const Entry& entry : in_force_) objects.push_back({&entry.object, entry.load_order});
  return resource_set_of(std::move(objects));
}

}  // namespace torii::config
