// Identity of a document's content, for generations: two texts that differ
// only in whitespace, comments, quoting, flow vs block style or key order hash
// the same, so a reload that only reformats a file changes no generation.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace torii::config {

// The canonical form: the node emitted by YAML::Emitter in flow style with map
// keys sorted and every scalar double-quoted.
std::string canonical_yaml(const YAML::Node& node);
// 16 hex digits: FNV-1a 64 over the same canonical view (scalars as text,
// map keys sorted), walked directly rather than emitted.
std::string content_hash(const YAML::Node& node);

}  // namespace torii::config
