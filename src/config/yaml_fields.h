// Typed access to the fields of one YAML document, with field paths.
//
// Every read names the field it is reading ("spec.http[0].timeout"), so a value
// of the wrong type becomes one error that says where and what was expected,
// and reading carries on with a default: one pass reports every problem of a
// document. A missing or null field reads as the default (protobuf JSON
// semantics). A field's line is found later, for a diagnostic
// (config/field_lines.h).
//
// Nothing here throws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/resources.h"
#include "config/yaml_tree.h"

namespace torii::config {

// Per-document state shared by every Field read from it.
class DocumentReader {
 public:
  // `line_offset`: 0-based file line at which the parsed text starts (a
  // document of a multi-document file is parsed on its own).
  DocumentReader(std::string file, int line_offset) : file_(std::move(file)), line_offset_(line_offset) {}

  const std::string& file() const { return file_; }
  // 1-based file line of a node, 0 for an undefined one.
  int line_of(const YamlNode& node) const;

  void error(int line, std::string path, std::string message);
  void warning(int line, std::string path, std::string message);

  Diagnostics& diagnostics() { return diagnostics_; }

 private:
  std::string file_;
  int line_offset_;
  Diagnostics diagnostics_;  // errors and warnings, without object identity yet
};

class Field {
 public:
  Field(DocumentReader& reader, YamlNode node, std::string path, int line);
  Field(const Field&) = default;
  Field& operator=(const Field&) = delete;

  // Defined and not null.
  bool present() const { return node_.IsDefined() && !node_.IsNull(); }
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  SourceRef source() const { return SourceRef{reader_->file(), line_}; }
  const YamlNode& node() const { return node_; }
  DocumentReader& reader() const { return *reader_; }

  // True for a present map; reports "expected a map" for a present non-map.
  bool expect_map() const;
  // Child field `key` of a map; absent when this is not a map or has no such key.
  Field operator[](std::string_view key) const;
  // Items of a present list (reports "expected a list" otherwise).
  std::vector<Field> items() const;
  // Entries of a present map in written order, keyed by their scalar key.
  std::vector<std::pair<std::string, Field>> entries() const;

  // Scalars: a missing field gives the default; a wrong type reports an error
  // and gives the default too.
  std::string string() const;
  std::optional<std::string> optional_string() const;
  std::string upper_string() const;  // protocols and enums are case-insensitive here
  uint32_t uint32() const;
  int32_t int32() const;
  bool boolean() const;
  std::optional<bool> optional_boolean() const;
  // Milliseconds, -1 when absent. Istio rejects sub-millisecond precision and
  // negative values, so they are errors here too.
  int64_t duration_ms() const;

  std::vector<std::string> strings() const;
  std::map<std::string, std::string> string_map() const;
  std::optional<std::map<std::string, std::string>> optional_string_map() const;
  std::map<std::string, uint32_t> uint32_map() const;

  void error(std::string message) const { reader_->error(line_, path_, std::move(message)); }
  void warning(std::string message) const { reader_->warning(line_, path_, std::move(message)); }

 private:
  bool expect_scalar(const char* expected) const;
  std::optional<int64_t> integer(int64_t min, int64_t max, const char* expected) const;

  DocumentReader* reader_;
  YamlNode node_;
  std::string path_;
  int line_;
};

// The root of a document: paths start at its top-level keys ("spec", ...).
Field document_root(DocumentReader& reader, const YamlNode& node);

// Whether walking `node` stays within a sane size. Aliases let a few lines
// describe a cycle (`a: &x [*x]`) or an exponential tree, which every
// recursive walk of the document (hashing, duplicate keys) would follow.
bool within_walk_limits(const YamlNode& node);

// Reports every map key written twice under `node`. kubectl refuses such YAML;
// yaml-cpp would silently keep the first value.
void report_duplicate_keys(DocumentReader& reader, const YamlNode& node, const std::string& path);

// A scalar as a number (protobuf JSON's double: decimal or exponent form, also
// the YAML forms .inf/-.inf/.nan). nullopt for anything else.
std::optional<double> scalar_to_double(const std::string& text);

// Standard or URL-safe base64, padding optional (what protobuf JSON accepts
// for `bytes` fields, and more than Kubernetes needs for Secret data).
std::optional<std::string> decode_base64(std::string_view in);

}  // namespace torii::config
