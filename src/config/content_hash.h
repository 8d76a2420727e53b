// Identity of a document's content, for generations: two texts that differ
// only in whitespace, comments, quoting, flow vs block style or key order hash
// the same, so a reload that only reformats a file changes no generation.
#pragma once

#include <cstdint>

#include "config/yaml_tree.h"

namespace torii::config {

// XXH3 64 over a canonical view of the tree (scalars as text, map keys
// sorted). A number, not text: the loader and the Store handle one per object
// on every reload, and it is shown nowhere.
uint64_t content_hash(const YamlNode& node);

}  // namespace torii::config
