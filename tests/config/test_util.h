// Helpers shared by the config tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "config/diagnostic.h"
#include "config/loader.h"

namespace torii::config::testing {

// A new empty directory under the system's temp directory; mkdtemp makes
// it unique even when test processes run side by side. Empty on failure.
inline std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string path = (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
  if (::mkdtemp(path.data()) == nullptr) return {};
  return path;
}

// A VirtualService `name` for `host`, routing everything to host b: what
// the reload tests write and rewrite.
inline std::string route_vs(std::string_view name, std::string_view host) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " + std::string(name) +
         "}\nspec:\n  hosts: [" + std::string(host) + "]\n  http:\n  - route: [{destination: {host: b}}]\n";
}

inline LoadResult load(const std::string& yaml, const std::string& file = "test.yaml") {
  return load_string(yaml, file, LoadOptions{});
}

// Indents every line of `text` by `spaces` (to nest a snippet under `spec:`).
inline std::string indent(std::string_view text, int spaces) {
  std::string out;
  const std::string pad(static_cast<size_t>(spaces), ' ');
  bool line_start = true;
  for (char c : text) {
    if (line_start && c != '\n') out += pad;
    out += c;
    line_start = c == '\n';
  }
  return out;
}

// One object of `kind` named `name` in namespace `ns` with the given spec
// (written unindented).
inline std::string object(std::string_view api_version, std::string_view kind, std::string_view spec,
                          std::string_view name = "obj", std::string_view ns = "ns") {
  return "apiVersion: " + std::string(api_version) + "\nkind: " + std::string(kind) +
         "\nmetadata:\n  name: " + std::string(name) + "\n  namespace: " + std::string(ns) + "\nspec:\n" +
         indent(spec, 2);
}

inline LoadResult load_istio(std::string_view kind, std::string_view spec, std::string_view name = "obj") {
  return load(object("networking.istio.io/v1", kind, spec, name));
}

inline std::string dump(const Diagnostics& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += "  " + d.format() + "\n";
  return out.empty() ? "  (no diagnostics)\n" : out;
}

inline ::testing::AssertionResult has_diagnostic(const Diagnostics& diagnostics,
                                                 Diagnostic::Severity severity, std::string_view field,
                                                 std::string_view text) {
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == severity && d.field == field && d.message.find(text) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "no " << (severity == Diagnostic::Severity::Error ? "error" : "warning") << " at `" << field
         << "` containing \"" << text << "\" in:\n"
         << dump(diagnostics);
}

inline ::testing::AssertionResult has_error(const LoadResult& r, std::string_view field,
                                            std::string_view text) {
  return has_diagnostic(r.diagnostics, Diagnostic::Severity::Error, field, text);
}

inline ::testing::AssertionResult has_warning(const LoadResult& r, std::string_view field,
                                              std::string_view text) {
  return has_diagnostic(r.diagnostics, Diagnostic::Severity::Warning, field, text);
}

inline ::testing::AssertionResult no_errors(const LoadResult& r) {
  if (!has_errors(r.diagnostics)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "unexpected errors:\n" << dump(r.diagnostics);
}

// The only object of the load is invalid (rejected) and not in `resources`.
inline ::testing::AssertionResult rejected(const LoadResult& r) {
  if (r.objects.size() != 1) return ::testing::AssertionFailure() << r.objects.size() << " objects loaded";
  if (r.objects[0].valid) return ::testing::AssertionFailure() << "object accepted:\n" << dump(r.diagnostics);
  return ::testing::AssertionSuccess();
}

}  // namespace torii::config::testing
