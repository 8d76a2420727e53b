#include "config/content_hash.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

namespace torii::config {
namespace {

// FNV-1a 64 fed with a token stream of the node tree (length-prefixed, so
// different trees cannot produce the same stream). Map keys are sorted by
// their text; a key that is itself a map or list (legal YAML, never seen in
// a Kubernetes object) sorts by the hex hash of its own tree.
std::string hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

class TreeHasher {
 public:
  void node(const YamlNode& n) {
    switch (n.type()) {
      case YamlNode::Type::Scalar:
        text('S', n.Scalar());
        break;
      case YamlNode::Type::Sequence:
        byte('[');
        for (const YamlNode& item : n.items()) node(item);
        byte(']');
        break;
      case YamlNode::Type::Map: {
        const std::vector<YamlNode::Entry>& entries = n.entries();
        std::vector<std::string> composite_keys;  // texts of the non-scalar keys
        std::vector<std::pair<std::string_view, const YamlNode*>> sorted;
        sorted.reserve(entries.size());
        // Reserved (so that views into it stay valid) only when a key needs
        // it: with 25,000 objects an allocation per map was most of hashing.
        if (std::any_of(entries.begin(), entries.end(),
                        [](const YamlNode::Entry& kv) { return !kv.key.IsScalar(); })) {
          composite_keys.reserve(entries.size());
        }
        for (const YamlNode::Entry& kv : entries) {
          if (kv.key.IsScalar()) {
            sorted.emplace_back(kv.key.Scalar(), &kv.value);
          } else {
            composite_keys.push_back(hex(content_hash(kv.key)));
            sorted.emplace_back(composite_keys.back(), &kv.value);
          }
        }
        const auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
        if (!std::is_sorted(sorted.begin(), sorted.end(), by_key)) {
          std::stable_sort(sorted.begin(), sorted.end(), by_key);
        }
        byte('{');
        for (const auto& [key, value] : sorted) {
          text('K', key);
          node(*value);
        }
        byte('}');
        break;
      }
      case YamlNode::Type::Null:
      case YamlNode::Type::Undefined:
        byte('N');
        break;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  void byte(unsigned char c) {
    hash_ ^= c;
    hash_ *= 1099511628211ULL;
  }
  void text(char tag, std::string_view s) {
    byte(static_cast<unsigned char>(tag));
    for (size_t n = s.size(), i = 0; i < 8; ++i, n >>= 8) byte(static_cast<unsigned char>(n & 0xff));
    for (char c : s) byte(static_cast<unsigned char>(c));
  }
  uint64_t hash_ = 14695981039346656037ULL;
};

}  // namespace

uint64_t content_hash(const YamlNode& node) {
  TreeHasher hasher;
  hasher.node(node);
  return hasher.value();
}

}  // namespace torii::config
