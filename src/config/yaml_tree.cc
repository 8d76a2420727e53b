#include "config/yaml_tree.h"

#include <yaml.h>

namespace torii::config {
namespace {

const std::string kEmptyString;
const std::vector<YamlNode> kNoItems;
const std::vector<YamlNode::Entry> kNoEntries;

// The null forms of YAML's core schema, for a plain scalar without a tag.
bool is_null_text(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

constexpr std::string_view kNullTag = "tag:yaml.org,2002:null";

std::string_view text_of(const yaml_char_t* s) {
  return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}

// Frees libyaml's parser and the current event on every path out of parse().
struct ParserGuard {
  yaml_parser_t parser;
  bool live = false;
  ~ParserGuard() {
    if (live) yaml_parser_delete(&parser);
  }
};

struct EventGuard {
  yaml_event_t event;
  bool live = false;
  ~EventGuard() {
    if (live) yaml_event_delete(&event);
  }
};

}  // namespace

YamlNode::Type YamlNode::type() const { return data_ == nullptr ? Type::Undefined : data_->type; }

const std::string& YamlNode::Scalar() const {
  return data_ != nullptr && data_->type == Type::Scalar ? data_->scalar : kEmptyString;
}

int YamlNode::line() const { return data_ == nullptr ? -1 : data_->line; }

const std::vector<YamlNode>& YamlNode::items() const {
  return data_ != nullptr && data_->type == Type::Sequence ? data_->items : kNoItems;
}

const std::vector<YamlNode::Entry>& YamlNode::entries() const {
  return data_ != nullptr && data_->type == Type::Map ? data_->entries : kNoEntries;
}

YamlNodeData& YamlDocument::add(YamlNode::Type type, int line) {
  YamlNodeData& d = nodes_.emplace_back();
  d.type = type;
  d.line = line;
  return d;
}

bool YamlDocument::parse(std::string_view text, Error* error) {
  nodes_.clear();
  root_ = YamlNode();
  ParserGuard guard;
  if (yaml_parser_initialize(&guard.parser) == 0) {
    if (error != nullptr) *error = Error{"cannot initialise the YAML parser", -1};
    return false;
  }
  guard.live = true;
  yaml_parser_set_input_string(&guard.parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());

  // The collections being filled, innermost last; a map's key waits in
  // `key` until its value arrives.
  struct Open {
    YamlNodeData* node;
    size_t depth;  // index of its scratch list
    YamlNode key;
    bool has_key = false;
  };
  std::vector<Open> open;
  // A collection's children gather in a scratch list of its depth, reused
  // from document to document on this thread, and are copied into the node
  // once, at its exact size, when it ends: one allocation per collection
  // where growing its own vector took several (25,000 objects: ~0.9 million
  // collections).
  thread_local std::vector<std::vector<YamlNode>> item_scratch;
  thread_local std::vector<std::vector<YamlNode::Entry>> entry_scratch;
  std::unordered_map<std::string, const YamlNodeData*> anchors;
  auto attach = [&](const YamlNodeData* data) {
    const YamlNode node(data);
    if (open.empty()) {
      root_ = node;
      return;
    }
    Open& o = open.back();
    if (o.node->type == YamlNode::Type::Sequence) {
      item_scratch[o.depth].push_back(node);
    } else if (!o.has_key) {
      o.key = node;
      o.has_key = true;
    } else {
      entry_scratch[o.depth].push_back(YamlNode::Entry{o.key, node});
      o.has_key = false;
    }
  };
  auto remember = [&](const yaml_char_t* anchor, const YamlNodeData* data) {
    if (anchor != nullptr) anchors[std::string(text_of(anchor))] = data;
  };

  for (;;) {
    EventGuard ev;
    if (yaml_parser_parse(&guard.parser, &ev.event) == 0) {
      if (error != nullptr) {
        std::string message = guard.parser.problem != nullptr ? guard.parser.problem : "invalid YAML";
        if (guard.parser.context != nullptr) message = std::string(guard.parser.context) + ": " + message;
        *error = Error{std::move(message), static_cast<int>(guard.parser.problem_mark.line)};
      }
      return false;
    }
    ev.live = true;
    const yaml_event_t& e = ev.event;
    const int line = static_cast<int>(e.start_mark.line);
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        const std::string_view value(reinterpret_cast<const char*>(e.data.scalar.value),
                                     e.data.scalar.length);
        const std::string_view tag = text_of(e.data.scalar.tag);
        const bool null =
            (e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && tag.empty() && is_null_text(value)) ||
            tag == kNullTag;
        YamlNodeData& d = add(null ? YamlNode::Type::Null : YamlNode::Type::Scalar, line);
        if (!null) d.scalar.assign(value);
        remember(e.data.scalar.anchor, &d);
        attach(&d);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        const bool map = e.type == YAML_MAPPING_START_EVENT;
        YamlNodeData& d = add(map ? YamlNode::Type::Map : YamlNode::Type::Sequence, line);
        remember(map ? e.data.mapping_start.anchor : e.data.sequence_start.anchor, &d);
        attach(&d);
        const size_t depth = open.size();
        if (item_scratch.size() <= depth) item_scratch.resize(depth + 1);
        if (entry_scratch.size() <= depth) entry_scratch.resize(depth + 1);
        item_scratch[depth].clear();
        entry_scratch[depth].clear();
        open.push_back(Open{&d, depth});
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        if (!open.empty()) {
          const Open& o = open.back();
          if (o.node->type == YamlNode::Type::Sequence) {
            o.node->items.assign(item_scratch[o.depth].begin(), item_scratch[o.depth].end());
          } else {
            o.node->entries.assign(entry_scratch[o.depth].begin(), entry_scratch[o.depth].end());
          }
          open.pop_back();
        }
        break;
      case YAML_ALIAS_EVENT: {
        auto it = anchors.find(std::string(text_of(e.data.alias.anchor)));
        if (it == anchors.end()) {
          if (error != nullptr) {
            *error = Error{"unknown anchor \"" + std::string(text_of(e.data.alias.anchor)) + "\"", line};
          }
          return false;
        }
        attach(it->second);
        break;
      }
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        return true;
      default:  // stream and document starts, no-ops
        break;
    }
  }
}

}  // namespace torii::config
