#include "config/yaml_fields.h"

#include <limits>

#include "config/duration.h"

namespace torii::config {
namespace {

std::string join_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

// Map entries are user data (label keys, header names) that may contain dots,
// so they are bracketed: `metadata.labels[app.kubernetes.io/name]`.
std::string entry_path(const std::string& parent, std::string_view key) {
  return parent + "[" + std::string(key) + "]";
}

std::string type_name(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "\"" + node.Scalar() + "\"";
}

// YAML 1.1 booleans, as sigs.k8s.io/yaml (go-yaml v2) reads them for kubectl.
std::optional<bool> parse_bool(const std::string& s) {
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                      "on",   "On",   "ON",   "y",   "Y"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No", "NO",
                                       "off",   "Off",   "OFF",   "n",  "N"};
  for (const char* t : kTrue) {
    if (s == t) return true;
  }
  for (const char* f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

// Decimal integer with optional sign; YAML's "0x"/"0o" forms are not valid in
// the JSON Kubernetes converts YAML to, so they are not accepted.
std::optional<int64_t> parse_int(const std::string& s) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  if (i == s.size()) return std::nullopt;
  int64_t value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (value > (std::numeric_limits<int64_t>::max() - (s[i] - '0')) / 10) return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  return negative ? -value : value;
}

}  // namespace

int DocumentReader::line_of(const YAML::Node& node) const {
  if (!node.IsDefined()) return 0;
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return 0;
  return line_offset_ + mark.line + 1;
}

void DocumentReader::error(int line, std::string path, std::string message) {
  Diagnostic d;
  d.severity = Diagnostic::Severity::Error;
  d.source = SourceRef{file_, line};
  d.field = std::move(path);
  d.message = std::move(message);
  diagnostics_.push_back(std::move(d));
}

void DocumentReader::warning(int line, std::string path, std::string message) {
  error(line, std::move(path), std::move(message));
  diagnostics_.back().severity = Diagnostic::Severity::Warning;
}

void DocumentReader::record_line(const std::string& path, int line) {
  if (line > 0) lines_.emplace(path, line);
}

Field::Field(DocumentReader& reader, YAML::Node node, std::string path, int line)
    : reader_(&reader), node_(std::move(node)), path_(std::move(path)), line_(line) {
  if (present()) reader_->record_line(path_, line_);
}

Field document_root(DocumentReader& reader, const YAML::Node& node) {
  return Field(reader, node, "", reader.line_of(node));
}

bool Field::expect_map() const {
  if (!present()) return false;
  if (node_.IsMap()) return true;
  error("expected a map, got " + type_name(node_));
  return false;
}

Field Field::operator[](std::string_view key) const {
  const std::string path = join_path(path_, key);
  if (present() && node_.IsMap()) {
    for (const auto& kv : node_) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) {
        // The key's line: for a nested map or list the value starts a line later.
        const int line = reader_->line_of(kv.first);
        return Field(*reader_, kv.second, path, line > 0 ? line : line_);
      }
    }
  }
  return Field(*reader_, YAML::Node(YAML::NodeType::Undefined), path, line_);
}

std::vector<Field> Field::items() const {
  std::vector<Field> out;
  if (!present()) return out;
  if (!node_.IsSequence()) {
    error("expected a list, got " + type_name(node_));
    return out;
  }
  size_t index = 0;
  for (const auto& item : node_) {
    const int line = reader_->line_of(item);
    out.emplace_back(*reader_, item, path_ + "[" + std::to_string(index++) + "]", line > 0 ? line : line_);
  }
  return out;
}

std::vector<std::pair<std::string, Field>> Field::entries() const {
  std::vector<std::pair<std::string, Field>> out;
  if (!expect_map()) return out;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      reader_->error(reader_->line_of(kv.first), path_, "map keys must be strings");
      continue;
    }
    const std::string key = kv.first.Scalar();
    const int line = reader_->line_of(kv.first);
    out.emplace_back(key, Field(*reader_, kv.second, entry_path(path_, key), line > 0 ? line : line_));
  }
  return out;
}

bool Field::expect_scalar(const char* expected) const {
  if (!present()) return false;
  if (node_.IsScalar()) return true;
  error(std::string("expected ") + expected + ", got " + type_name(node_));
  return false;
}

std::string Field::string() const {
  if (!expect_scalar("a string")) return "";
  return node_.Scalar();
}

std::optional<std::string> Field::optional_string() const {
  if (!expect_scalar("a string")) return std::nullopt;
  return node_.Scalar();
}

std::string Field::upper_string() const {
  std::string s = string();
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::optional<int64_t> Field::integer(int64_t min, int64_t max, const char* expected) const {
  if (!expect_scalar(expected)) return std::nullopt;
  const std::string& text = node_.Scalar();
  const auto value = parse_int(text);
  if (!value) {
    const bool digits = !text.empty() && text.find_first_not_of("+-0123456789") == std::string::npos;
    error(digits ? "value " + text + " is out of range"
                 : std::string("expected ") + expected + ", got " + type_name(node_));
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    error("value " + node_.Scalar() + " is out of range (" + std::to_string(min) + ".." +
          std::to_string(max) + ")");
    return std::nullopt;
  }
  return value;
}

uint32_t Field::uint32() const {
  const auto v = integer(0, std::numeric_limits<uint32_t>::max(), "an integer");
  return v ? static_cast<uint32_t>(*v) : 0;
}

int32_t Field::int32() const {
  const auto v =
      integer(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), "an integer");
  return v ? static_cast<int32_t>(*v) : 0;
}

std::optional<bool> Field::optional_boolean() const {
  if (!expect_scalar("a boolean")) return std::nullopt;
  const auto value = parse_bool(node_.Scalar());
  if (!value) error("expected a boolean, got " + type_name(node_));
  return value;
}

bool Field::boolean() const { return optional_boolean().value_or(false); }

int64_t Field::duration_ms() const {
  if (!expect_scalar("a duration such as \"1.5s\"")) return -1;
  std::string why;
  const auto ns = parse_duration_ns(node_.Scalar(), &why);
  if (!ns) {
    error(why + " (expected a duration such as \"1.5s\", \"100ms\" or \"1m\")");
    return -1;
  }
  if (*ns < 0) {
    error("duration must be greater than 1ms");
    return -1;
  }
  if (*ns % 1000000 != 0) {
    error("only durations to ms precision are supported");
    return -1;
  }
  return *ns / 1000000;
}

std::vector<std::string> Field::strings() const {
  std::vector<std::string> out;
  for (const Field& item : items()) {
    if (item.expect_scalar("a string")) out.push_back(item.node().Scalar());
  }
  return out;
}

std::map<std::string, std::string> Field::string_map() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : entries()) {
    // A null value ("key:") is the empty string, as in a Kubernetes label.
    out[key] = value.string();
  }
  return out;
}

std::optional<std::map<std::string, std::string>> Field::optional_string_map() const {
  if (!present()) return std::nullopt;
  if (!expect_map()) return std::nullopt;
  return string_map();
}

std::map<std::string, uint32_t> Field::uint32_map() const {
  std::map<std::string, uint32_t> out;
  for (const auto& [key, value] : entries()) out[key] = value.uint32();
  return out;
}

namespace {

constexpr int kMaxDepth = 100;
constexpr int64_t kMaxNodes = 1000000;

bool walk_within(const YAML::Node& node, int depth, int64_t& budget) {
  if (depth > kMaxDepth || --budget < 0) return false;
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!walk_within(item, depth + 1, budget)) return false;
    }
  } else if (node.IsMap()) {
    for (const auto& kv : node) {
      if (!walk_within(kv.first, depth + 1, budget) || !walk_within(kv.second, depth + 1, budget))
        return false;
    }
  }
  return true;
}

}  // namespace

bool within_walk_limits(const YAML::Node& node) {
  int64_t budget = kMaxNodes;
  return walk_within(node, 0, budget);
}

void report_duplicate_keys(DocumentReader& reader, const YAML::Node& node, const std::string& path) {
  if (node.IsSequence()) {
    size_t index = 0;
    for (const auto& item : node)
      report_duplicate_keys(reader, item, path + "[" + std::to_string(index++) + "]");
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, int> first_line;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string& key = kv.first.Scalar();
    const int line = reader.line_of(kv.first);
    const auto [it, inserted] = first_line.emplace(key, line);
    if (!inserted) {
      reader.error(line, join_path(path, key),
                   "mapping key \"" + key + "\" already defined at line " + std::to_string(it->second));
      continue;
    }
    report_duplicate_keys(reader, kv.second, join_path(path, key));
  }
}

}  // namespace torii::config
