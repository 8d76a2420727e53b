#include "config/content_hash.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace torii::config {
namespace {

void emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      out << YAML::DoubleQuoted << node.Scalar();
      break;
    case YAML::NodeType::Sequence:
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& item : node) emit(out, item);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Map: {
      // Sorted through indices: assigning a YAML::Node (as std::sort would)
      // rebinds the node it refers to and so rewrites the document.
      std::vector<std::string> keys;
      std::vector<YAML::Node> values;
      for (const auto& kv : node) {
        keys.push_back(canonical_yaml(kv.first));
        values.push_back(kv.second);
      }
      std::vector<size_t> order(keys.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
      out << YAML::Flow << YAML::BeginMap;
      for (size_t i : order) {
        out << YAML::Key << YAML::DoubleQuoted << keys[i] << YAML::Value;
        emit(out, values[i]);
      }
      out << YAML::EndMap;
      break;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      break;
  }
}

}  // namespace

std::string canonical_yaml(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();  // keys: the plain text
  YAML::Emitter out;
  emit(out, node);
  return out.c_str();
}

std::string content_hash(const YAML::Node& node) {
  YAML::Emitter out;
  emit(out, node);
  uint64_t hash = 14695981039346656037ULL;
  for (const char* p = out.c_str(); *p; ++p) {
    hash ^= static_cast<unsigned char>(*p);
    hash *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

}  // namespace torii::config
