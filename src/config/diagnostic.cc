#include "config/diagnostic.h"

#include <algorithm>

namespace torii::config {

std::string Diagnostic::format() const {
  std::string out;
  if (!source.file.empty()) {
    out += source.file;
    if (source.line > 0) out += ":" + std::to_string(source.line);
    out += ": ";
  }
  if (severity == Severity::Warning) out += "warning: ";
  if (severity == Severity::Notice) out += "notice: ";
  if (!kind.empty()) {
    out += kind + " ";
    out += namespace_.empty() ? name : namespace_ + "/" + name;
    out += ": ";
  }
  if (!field.empty()) out += field + ": ";
  out += message;
  return out;
}

bool has_errors(const Diagnostics& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; });
}

}  // namespace torii::config
