#include "config/field_lines.h"

namespace torii::config {

int line_of(const FieldLines& lines, std::string_view path, int fallback) {
  while (!path.empty()) {
    if (auto it = lines.find(path); it != lines.end() && it->second > 0) return it->second;
    const size_t cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    path = path.substr(0, cut);
  }
  return fallback;
}

}  // namespace torii::config
