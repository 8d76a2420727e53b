// The identity of an object across reloads: kind, namespace and name.
#pragma once

#include <compare>
#include <string>

namespace torii::config {

struct ObjectKey {
  std::string kind;  // "VirtualService", "Service", ...
  std::string namespace_;
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
  std::string str() const;  // "VirtualService default/httpbin"
};

}  // namespace torii::config
