// Collects the compiler's diagnostics. The same VirtualService can be
// translated for several servers and the same endpoint can feed several subset
// clusters, so identical diagnostics are reported once.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "config/diagnostic.h"
#include "config/resources.h"

namespace torii::compile {

// The kinds the compiler's diagnostics name most.
inline constexpr std::string_view kVirtualServiceKind = "VirtualService";
inline constexpr std::string_view kDestinationRuleKind = "DestinationRule";
inline constexpr std::string_view kGatewayKind = "Gateway";

class DiagnosticSink {
 public:
  using Severity = config::Diagnostic::Severity;

  // `source` wins over meta.source when it names a file (field-level positions).
  void report(Severity severity, std::string_view kind, const config::ObjectMeta& meta, std::string field,
              std::string message, const config::SourceRef* source = nullptr);
  void error(std::string_view kind, const config::ObjectMeta& meta, std::string field, std::string message,
             const config::SourceRef* source = nullptr) {
    report(Severity::Error, kind, meta, std::move(field), std::move(message), source);
  }
  void warning(std::string_view kind, const config::ObjectMeta& meta, std::string field, std::string message,
               const config::SourceRef* source = nullptr) {
    report(Severity::Warning, kind, meta, std::move(field), std::move(message), source);
  }
  void notice(std::string_view kind, const config::ObjectMeta& meta, std::string field, std::string message,
              const config::SourceRef* source = nullptr) {
    report(Severity::Notice, kind, meta, std::move(field), std::move(message), source);
  }

  const config::Diagnostics& diagnostics() const { return diagnostics_; }
  config::Diagnostics take() { return std::move(diagnostics_); }

 private:
  config::Diagnostics diagnostics_;
  std::set<std::string> seen_;  // formatted text of every diagnostic reported
};

}  // namespace torii::compile
