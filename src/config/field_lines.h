// Line numbers of the fields of one object, by field path
// ("spec.http[0].route[1].destination.host"), as the loader saw them. Lets a
// check that runs on typed objects (validate.h) still point at the line to fix.
//
// Found in the object's YAML tree when a check asks (that is, for a
// diagnostic), not recorded while reading: with 25,000 objects a map entry
// per field read was a tenth of the parse (issue 17, startup).
#pragma once

#include <string_view>

#include "config/yaml_tree.h"

namespace torii::config {

class FieldLines {
 public:
  // Knows no line: every lookup gives its fallback.
  FieldLines() = default;
  // The fields of the tree under `root` (which must outlive this), paths
  // starting at its keys; `line_offset` as DocumentReader's.
  FieldLines(const YamlNode& root, int line_offset) : root_(&root), line_offset_(line_offset) {}

  // The line of `path`'s key (a list item's own line), else of its closest
  // present parent ("a.b[2].c" -> "a.b[2]" -> "a.b" -> "a"), else `fallback`.
  // A null or missing field has no line of its own. `[x]` is a list index or
  // a map entry's key (entries may hold dots: `labels[app.kubernetes.io/name]`).
  int line_of(std::string_view path, int fallback) const;

 private:
  const YamlNode* root_ = nullptr;
  int line_offset_ = 0;
};

inline int line_of(const FieldLines& lines, std::string_view path, int fallback) {
  return lines.line_of(path, fallback);
}

}  // namespace torii::config
