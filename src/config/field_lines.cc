#include "config/field_lines.h"

#include <charconv>

namespace torii::config {

namespace {

const YamlNode::Entry* find_key(const YamlNode& map, std::string_view key) {
  for (const YamlNode::Entry& kv : map.entries()) {
    if (kv.key.IsScalar() && kv.key.Scalar() == key) return &kv;
  }
  return nullptr;
}

}  // namespace

int FieldLines::line_of(std::string_view path, int fallback) const {
  int line = fallback;
  const YamlNode* node = root_;
  size_t at = 0;
  while (node != nullptr && at < path.size()) {
    const YamlNode* next = nullptr;
    int next_line = 0;
    if (path[at] == '[') {
      const size_t close = path.find(']', at);
      if (close == std::string_view::npos) break;
      const std::string_view inside = path.substr(at + 1, close - at - 1);
      at = close + 1;
      if (node->IsSequence()) {
        size_t index = 0;
        const auto [end, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), index);
        if (ec != std::errc() || end != inside.data() + inside.size() || index >= node->items().size()) break;
        next = &node->items()[index];
        next_line = next->line();
      } else if (node->IsMap()) {
        const YamlNode::Entry* kv = find_key(*node, inside);
        if (kv == nullptr) break;
        next = &kv->value;
        next_line = kv->key.line();
      } else {
        break;
      }
    } else {
      if (path[at] == '.') ++at;
      const size_t end = std::min(path.find_first_of(".[", at), path.size());
      const std::string_view key = path.substr(at, end - at);
      at = end;
      if (!node->IsMap()) break;
      const YamlNode::Entry* kv = find_key(*node, key);
      if (kv == nullptr) break;
      next = &kv->value;
      next_line = kv->key.line();
    }
    node = next;
    // The reader's lines: 1-based, in the file; a present field only.
    if (node->IsDefined() && !node->IsNull()) line = line_offset_ + next_line + 1;
  }
  return line;
}

}  // namespace torii::config
