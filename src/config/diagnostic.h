// A problem found while loading, validating or compiling configuration.
//
// Every diagnostic names where it came from so a user can fix it without
// guessing: `file:line: Kind namespace/name: field.path: message`.
#pragma once

#include <string>
#include <vector>

#include "config/resources.h"

namespace torii::config {

struct Diagnostic {
  enum class Severity { Error, Warning, Notice };
  Severity severity = Severity::Error;
  SourceRef source;
  std::string kind;        // "VirtualService"; empty for file-level problems
  std::string namespace_;  // of the object
  std::string name;        // of the object
  std::string field;       // "spec.http[0].route[1].destination.host"
  std::string message;

  // `file:line: Kind ns/name: field: message`, leaving out the parts that are
  // empty, prefixed with "warning: " / "notice: " when not an error.
  std::string format() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& diagnostics);

}  // namespace torii::config
