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

Store::Result Store::apply(LoadResult loaded) {
  Result result;
  Diagnostics notes;

  std::map<ObjectKey, Entry> next;
  std::map<ObjectKey, ObjectStatus> statuses;
  // In load order, so of two objects with one key the later wins.
  for (size_t i = 0; i < loaded.objects.size(); ++i) {
    const LoadedObject& loaded_object = loaded.objects[i];
    const ObjectKey& key = loaded_object.key;
    ObjectStatus status;
    status.key = key;
    status.source = loaded_object.source;
    const auto previous = in_force_.find(key);
    next.erase(key);

    SharedObject object = loaded_object.valid ? std::move(loaded.typed[i]) : nullptr;
    if (object) {
      Entry entry{std::move(object), loaded_object.content_hash, 1, loaded_object.load_order};
      if (previous != in_force_.end()) {
        const bool changed = previous->second.content_hash != loaded_object.content_hash;
        entry.generation = previous->second.generation + (changed ? 1 : 0);
      }
      status.generation = entry.generation;
      status.in_force = true;
      next.emplace(key, std::move(entry));
    } else {
      status.latest_rejected = true;
      status.errors = loaded_object.errors;
      if (previous != in_force_.end()) {
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
        next.emplace(key, std::move(entry));
      }
    }
    statuses.insert_or_assign(key, std::move(status));
  }

  // Gone from the load: deleted, unless its file could not be read completely,
  // in which case it may well still be there.
  for (const auto& [key, entry] : in_force_) {
    if (statuses.contains(key)) continue;
    const SourceRef& source = meta_of(*entry.object).source;
    if (!is_under_any(source.file, loaded.unreadable_paths)) continue;
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
    statuses.emplace(key, std::move(status));
    next.emplace(key, entry);
  }

  in_force_ = std::move(next);
  result.resources = resources();

  for (auto& [key, status] : statuses) result.objects.push_back(std::move(status));
  result.diagnostics = std::move(loaded.diagnostics);
  result.diagnostics.insert(result.diagnostics.end(), notes.begin(), notes.end());
  return result;
}

ResourceSet Store::resources() const {
  std::vector<OrderedObject> objects;
  objects.reserve(in_force_.size());
  for (const auto& [key, entry] : in_force_) objects.push_back({entry.object.get(), entry.load_order});
  return resource_set_of(std::move(objects));
}

}  // namespace torii::config
