// The identity of an object across reloads: kind, namespace and name.
#pragma once

#include <compare>
#include <string>
#include <string_view>

namespace torii::config {

struct ObjectKey {
  std::string kind;  // "VirtualService", "Service", ...
  std::string namespace_;
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
  std::string str() const;  // "VirtualService default/httpbin"
};

// An ObjectKey as views into the strings of an object (or of an ObjectKey)
// that outlives it: what the loader and the Store compare for every object
// of every reload, without copying three strings each time. Orders as the
// ObjectKey it views.
struct ObjectKeyView {
  std::string_view kind;
  std::string_view namespace_;
  std::string_view name;

  ObjectKeyView() = default;
  ObjectKeyView(std::string_view k, std::string_view ns, std::string_view n)
      : kind(k), namespace_(ns), name(n) {}
  ObjectKeyView(const ObjectKey& key)  // NOLINT(google-explicit-constructor): a view of it
      : kind(key.kind), namespace_(key.namespace_), name(key.name) {}
  ObjectKeyView(ObjectKey&&) = delete;  // a view of a temporary would dangle
  auto operator<=>(const ObjectKeyView&) const = default;
  bool operator==(const ObjectKeyView&) const = default;
  ObjectKey owned() const { return ObjectKey{std::string(kind), std::string(namespace_), std::string(name)}; }
  std::string str() const { return owned().str(); }
};

}  // namespace torii::config
