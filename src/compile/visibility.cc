#include "compile/visibility.h"

#include <algorithm>

namespace torii::compile {

bool is_visible_to(const std::vector<std::string>& export_to, std::string_view owner_namespace,
                   std::string_view client_namespace) {
  if (export_to.empty()) return true;
  for (const std::string& e : export_to) {
    if (e == "*") return true;
    if (e == "~") return false;
  }
  return std::any_of(export_to.begin(), export_to.end(), [&](const std::string& e) {
    return e == client_namespace || (e == "." && owner_namespace == client_namespace);
  });
}

bool is_private(const std::vector<std::string>& export_to, std::string_view owner_namespace) {
  if (export_to.empty()) return false;
  return std::all_of(export_to.begin(), export_to.end(),
                     [&](const std::string& e) { return e == "." || e == owner_namespace; });
}

std::vector<std::string> split_export_to_annotation(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace torii::compile
