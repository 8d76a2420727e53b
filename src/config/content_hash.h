// Identity of a document's content, for generations: two texts that differ
// only in whitespace, comments, quoting, flow vs block style or key order hash
// the same, so a reload that only reformats a file changes no generation.
#pragma once

#include <string>

#include "config/yaml_tree.h"

namespace torii::config {

// 16 hex digits: FNV-1a 64 over a canonical view of the tree (scalars as
// text, map keys sorted).
std::string content_hash(const YamlNode& node);

}  // namespace torii::config
