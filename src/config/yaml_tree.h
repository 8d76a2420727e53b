// A parsed YAML document: an immutable tree built from libyaml's event
// parser, with the 0-based line of every node.
//
// Why not yaml-cpp: at 25,000 objects its scanner was two thirds of the
// startup time (1.5 s of 2 s in `torii validate`, callgrind), and every node
// handle copy is a shared_ptr count. libyaml's scanner is written for speed,
// and a handle here is one pointer into the document's storage.
//
// The accessor names follow yaml-cpp's (IsMap, Scalar, ...), so that code
// reading nodes reads the same as before. Scalars are text: YAML 1.1 and 1.2
// typing (numbers, booleans) is the reader's business (yaml_fields.h), as it
// was with yaml-cpp. A plain scalar that YAML calls null (`~`, `null`,
// `Null`, `NULL`, or nothing as in `key:`) is a Null node; quoted, it is a
// string.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace torii::config {

struct YamlNodeData;

class YamlNode {
 public:
  enum class Type : uint8_t { Undefined, Null, Scalar, Sequence, Map };
  struct Entry;

  YamlNode() = default;  // undefined: what a missing key reads as
  explicit YamlNode(const YamlNodeData* data) : data_(data) {}

  Type type() const;
  bool IsDefined() const { return data_ != nullptr; }
  bool IsNull() const { return type() == Type::Null; }
  bool IsScalar() const { return type() == Type::Scalar; }
  bool IsSequence() const { return type() == Type::Sequence; }
  bool IsMap() const { return type() == Type::Map; }

  // The text of a scalar; empty for every other node.
  const std::string& Scalar() const;
  // 0-based line in the parsed text where the node starts; -1 if undefined.
  int line() const;
  // The items of a sequence, the entries of a map (in written order); empty
  // for every other node.
  const std::vector<YamlNode>& items() const;
  const std::vector<Entry>& entries() const;

  // Same node (aliases share their anchor's node).
  bool operator==(const YamlNode& other) const { return data_ == other.data_; }

 private:
  const YamlNodeData* data_ = nullptr;
};

struct YamlNode::Entry {
  YamlNode key;
  YamlNode value;
};

struct YamlNodeData {
  YamlNode::Type type = YamlNode::Type::Null;
  int line = 0;
  std::string scalar;
  std::vector<YamlNode> items;
  std::vector<YamlNode::Entry> entries;
};

// One document parsed from text. Nodes point into it: it must outlive every
// YamlNode read from it (which is why it can be neither copied nor moved).
class YamlDocument {
 public:
  struct Error {
    std::string message;  // libyaml's problem, with its context if any
    int line = -1;        // 0-based, -1 if unknown
  };

  YamlDocument() = default;
  YamlDocument(const YamlDocument&) = delete;
  YamlDocument& operator=(const YamlDocument&) = delete;

  // Parses the first document of `text` (as yaml-cpp's YAML::Load did; the
  // loader splits files at `---` itself). False on a syntax error, with
  // `error` set. An empty document gives an undefined root.
  bool parse(std::string_view text, Error* error);

  YamlNode root() const { return root_; }

 private:
  YamlNodeData& add(YamlNode::Type type, int line);

  std::deque<YamlNodeData> nodes_;  // a deque: nodes never move once made
  YamlNode root_;
};

}  // namespace torii::config
