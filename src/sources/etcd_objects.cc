#include "sources/etcd_objects.h"

#include <algorithm>
#include <cstdlib>
#include <regex>

#include "config/documents.h"
#include "config/yaml_tree.h"
#include "sources/etcd_keys.h"

namespace torii::sources {

namespace {

nlohmann::json node_to_json(const config::YamlNode& node) {
  switch (node.type()) {
    case config::YamlNode::Type::Undefined:
    case config::YamlNode::Type::Null:
      return nullptr;
    case config::YamlNode::Type::Scalar: {
      const std::string& s = node.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      static const std::regex integer("[-+]?[0-9]+");
      static const std::regex number("[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
      if (s.size() < 19 && std::regex_match(s, integer)) return std::strtoll(s.c_str(), nullptr, 10);
      if (std::regex_match(s, number)) return std::strtod(s.c_str(), nullptr);
      return s;
    }
    case config::YamlNode::Type::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node.items()) out.push_back(node_to_json(item));
      return out;
    }
    case config::YamlNode::Type::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& entry : node.entries()) out[entry.key.Scalar()] = node_to_json(entry.value);
      return out;
    }
  }
  return nullptr;
}

std::string trim_blank_lines(std::string_view text, int& skipped) {
  skipped = 0;
  // Leading lines with nothing but blanks.
  for (;;) {
    const size_t eol = text.find('\n');
    if (eol == std::string_view::npos) break;
    if (text.substr(0, eol).find_first_not_of(" \t\r") != std::string_view::npos) break;
    text.remove_prefix(eol + 1);
    ++skipped;
  }
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == ' ' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  return std::string(text) + "\n";
}

}  // namespace

std::vector<config::NamedText> named_texts(const std::vector<KeyValue>& kvs, std::string_view prefix) {
  std::vector<config::NamedText> out;
  out.reserve(kvs.size());
  for (const KeyValue& kv : kvs) {
    config::ObjectKey key;
    if (!parse_object_key(prefix, kv.key, key)) continue;
    out.push_back({kv.key, kv.value, key.namespace_});
  }
  return out;
}

int64_t resource_version_of(std::string_view yaml) {
  config::YamlDocument doc;
  config::YamlDocument::Error error;
  if (!doc.parse(yaml, &error) || !doc.root().IsMap()) return 0;
  for (const auto& e : doc.root().entries()) {
    if (e.key.Scalar() != "metadata" || !e.value.IsMap()) continue;
    for (const auto& m : e.value.entries()) {
      if (m.key.Scalar() == "resourceVersion" && m.value.IsScalar())
        return std::strtoll(m.value.Scalar().c_str(), nullptr, 10);
    }
  }
  return 0;
}

std::string with_resource_version(const std::string& yaml, int64_t revision) {
  // Block style only: the line after a top-level `metadata:` gives the indentation.
  const std::string line = "resourceVersion: \"" + std::to_string(revision) + "\"";
  size_t at = yaml.starts_with("metadata:") ? 0 : yaml.find("\nmetadata:");
  if (at == std::string::npos) return yaml;
  if (at != 0) ++at;
  const size_t eol = yaml.find('\n', at);
  if (eol == std::string::npos) return yaml;
  if (yaml.substr(at, eol - at).find_first_not_of(" \t\r", 9) != std::string::npos)
    return yaml;  // flow style
  const size_t next = eol + 1;
  const size_t indent = yaml.find_first_not_of(' ', next) - next;
  if (indent == 0 || indent > 16) return yaml;
  std::string out = yaml;
  // Replace one written by hand (a `get -o yaml` applied again).
  static const std::regex written("\n[ ]+resourceVersion:[^\n]*");
  out = std::regex_replace(out, written, "", std::regex_constants::format_first_only);
  out.insert(next, std::string(indent, ' ') + line + "\n");
  return out;
}

nlohmann::json yaml_to_json(std::string_view yaml) {
  config::YamlDocument doc;
  config::YamlDocument::Error error;
  if (!doc.parse(yaml, &error)) return nullptr;
  return node_to_json(doc.root());
}

std::string document_at(std::string_view text, int line, int* first_line) {
  return DocumentIndex(text).at(line, first_line);
}

DocumentIndex::DocumentIndex(std::string_view text) : documents_(config::split_documents(text)) {}

std::string DocumentIndex::at(int line, int* first_line) const {
  // The last document starting before `line` (first_line is 0-based: line first_line+1 is its first).
  auto after = std::partition_point(documents_.begin(), documents_.end(),
                                    [&](const config::DocumentText& d) { return d.first_line < line; });
  if (after == documents_.begin()) return "";
  const config::DocumentText* found = &*(after - 1);
  int skipped = 0;
  std::string out = trim_blank_lines(found->text, skipped);
  if (first_line != nullptr) *first_line = found->first_line + skipped + 1;
  return out;
}

}  // namespace torii::sources
