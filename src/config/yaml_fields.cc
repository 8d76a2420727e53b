#include "config/yaml_fields.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "config/duration.h"
#include "security/base64url.h"

namespace torii::config {
namespace {

// Paths are built for every field read (25,000 objects: ~1.5 million), so
// each is one allocation of the final size rather than a chain of temporaries.
std::string join_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path;
  path.reserve(parent.size() + 1 + key.size());
  path.append(parent).append(1, '.').append(key);
  return path;
}

// Map entries are user data (label keys, header names) that may contain dots,
// so they are bracketed: `metadata.labels[app.kubernetes.io/name]`.
std::string entry_path(const std::string& parent, std::string_view key) {
  std::string path;
  path.reserve(parent.size() + 2 + key.size());
  path.append(parent).append(1, '[').append(key).append(1, ']');
  return path;
}

std::string item_path(const std::string& parent, size_t index) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, index).ptr;
  return entry_path(parent, std::string_view(digits, static_cast<size_t>(end - digits)));
}

std::string type_name(const YamlNode& node) {
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

int DocumentReader::line_of(const YamlNode& node) const {
  if (!node.IsDefined()) return 0;
  return line_offset_ + node.line() + 1;
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

Field::Field(DocumentReader& reader, YamlNode node, std::string path, int line)
    : reader_(&reader), node_(std::move(node)), path_(std::move(path)), line_(line) {}

Field document_root(DocumentReader& reader, const YamlNode& node) {
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
    for (const YamlNode::Entry& kv : node_.entries()) {
      if (kv.key.IsScalar() && kv.key.Scalar() == key) {
        // The key's line: for a nested map or list the value starts a line later.
        const int line = reader_->line_of(kv.key);
        return Field(*reader_, kv.value, path, line > 0 ? line : line_);
      }
    }
  }
  return Field(*reader_, YamlNode(), path, line_);
}

std::vector<Field> Field::items() const {
  std::vector<Field> out;
  if (!present()) return out;
  if (!node_.IsSequence()) {
    error("expected a list, got " + type_name(node_));
    return out;
  }
  out.reserve(node_.items().size());
  size_t index = 0;
  for (const YamlNode& item : node_.items()) {
    const int line = reader_->line_of(item);
    out.emplace_back(*reader_, item, item_path(path_, index++), line > 0 ? line : line_);
  }
  return out;
}

std::vector<std::pair<std::string, Field>> Field::entries() const {
  std::vector<std::pair<std::string, Field>> out;
  if (!expect_map()) return out;
  for (const YamlNode::Entry& kv : node_.entries()) {
    if (!kv.key.IsScalar()) {
      reader_->error(reader_->line_of(kv.key), path_, "map keys must be strings");
      continue;
    }
    const std::string& key = kv.key.Scalar();
    const int line = reader_->line_of(kv.key);
    out.emplace_back(key, Field(*reader_, kv.value, entry_path(path_, key), line > 0 ? line : line_));
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

bool walk_within(const YamlNode& node, int depth, int64_t& budget) {
  if (depth > kMaxDepth || --budget < 0) return false;
  for (const YamlNode& item : node.items()) {
    if (!walk_within(item, depth + 1, budget)) return false;
  }
  for (const YamlNode::Entry& kv : node.entries()) {
    if (!walk_within(kv.key, depth + 1, budget) || !walk_within(kv.value, depth + 1, budget)) return false;
  }
  return true;
}

}  // namespace

bool within_walk_limits(const YamlNode& node) {
  int64_t budget = kMaxNodes;
  return walk_within(node, 0, budget);
}

namespace {

// One step of the path to a node: a map key or a list index. The path text is
// only built for an error, so a clean document allocates nothing here.
struct PathStep {
  std::string_view key;
  size_t index = 0;
  bool is_index = false;
};

std::string path_text(const std::vector<PathStep>& trail) {
  std::string path;
  for (const PathStep& step : trail) {
    if (step.is_index) {
      path += "[" + std::to_string(step.index) + "]";
    } else {
      path = join_path(path, step.key);
    }
  }
  return path;
}

// For each entry of a large map, the index of an earlier entry with the same
// scalar key, or -1, by sorting (small maps compare pairwise in place).
std::vector<ptrdiff_t> earlier_same_keys(const std::vector<YamlNode::Entry>& entries) {
  std::vector<ptrdiff_t> earlier(entries.size(), -1);
  std::vector<std::pair<std::string_view, size_t>> sorted;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].key.IsScalar()) sorted.emplace_back(entries[i].key.Scalar(), i);
  }
  std::sort(sorted.begin(), sorted.end());  // by key, then by written order
  for (size_t k = 1, first = 0; k < sorted.size(); ++k) {
    if (sorted[k].first == sorted[first].first) {
      earlier[sorted[k].second] = static_cast<ptrdiff_t>(sorted[first].second);
    } else {
      first = k;
    }
  }
  return earlier;
}

void find_duplicate_keys(DocumentReader& reader, const YamlNode& node, std::vector<PathStep>& trail) {
  if (node.IsSequence()) {
    const std::vector<YamlNode>& items = node.items();
    for (size_t i = 0; i < items.size(); ++i) {
      trail.push_back(PathStep{{}, i, true});
      find_duplicate_keys(reader, items[i], trail);
      trail.pop_back();
    }
    return;
  }
  if (!node.IsMap()) return;
  const std::vector<YamlNode::Entry>& entries = node.entries();
  // Small maps (nearly all) compare pairwise in place: a vector per map was
  // an allocation per map of every document.
  constexpr size_t kPairwise = 16;
  const std::vector<ptrdiff_t> earlier =
      entries.size() <= kPairwise ? std::vector<ptrdiff_t>() : earlier_same_keys(entries);
  for (size_t i = 0; i < entries.size(); ++i) {
    const YamlNode::Entry& kv = entries[i];
    if (!kv.key.IsScalar()) continue;
    trail.push_back(PathStep{kv.key.Scalar()});
    ptrdiff_t same = -1;
    if (entries.size() <= kPairwise) {
      for (size_t j = 0; j < i; ++j) {
        if (entries[j].key.IsScalar() && entries[j].key.Scalar() == kv.key.Scalar()) {
          same = static_cast<ptrdiff_t>(j);
          break;
        }
      }
    } else {
      same = earlier[i];
    }
    if (same >= 0) {
      const int first_line = reader.line_of(entries[static_cast<size_t>(same)].key);
      reader.error(
          reader.line_of(kv.key), path_text(trail),
          "mapping key \"" + kv.key.Scalar() + "\" already defined at line " + std::to_string(first_line));
    } else {
      find_duplicate_keys(reader, kv.value, trail);
    }
    trail.pop_back();
  }
}

}  // namespace

void report_duplicate_keys(DocumentReader& reader, const YamlNode& node, const std::string& path) {
  std::vector<PathStep> trail;
  if (!path.empty()) trail.push_back(PathStep{path});
  find_duplicate_keys(reader, node, trail);
}

std::optional<double> scalar_to_double(const std::string& text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF") {
    return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (text == ".nan" || text == ".NaN" || text == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  // from_chars alone would also take "inf", "nan" and hexadecimal forms.
  if (s.empty() || s.find_first_not_of("0123456789.eE+-") != std::string_view::npos) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::general);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -value : value;
}

std::optional<std::string> decode_base64(std::string_view in) { return security::base64_decode_either(in); }

}  // namespace torii::config
