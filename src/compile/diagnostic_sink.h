// Collects the compiler's diagnostics. The same VirtualService can be
// translated for several servers and the same endpoint can feed several subset
// clusters, so identical diagnostics are reported once.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>

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

  // While set, every diagnostic reported is also appended to `*into`, the
  // duplicates too, so that what one step reported can be replayed without
  // running it again (compile/cluster_cache.h). Returns the previous one.
  config::Diagnostics* record_into(config::Diagnostics* into) {
    std::swap(into, recording_);
    return into;
  }
  // Reports each of `diagnostics` again, as the step that made them would.
  void replay(const config::Diagnostics& diagnostics);

 private:
  void add(config::Diagnostic diagnostic);

  config::Diagnostics diagnostics_;
  config::Diagnostics* recording_ = nullptr;
  std::set<std::string> seen_;  // formatted text of every diagnostic reported
};

}  // namespace torii::compile
