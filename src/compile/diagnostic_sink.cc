#include "compile/diagnostic_sink.h"

namespace torii::compile {

void DiagnosticSink::report(Severity severity, std::string_view kind, const config::ObjectMeta& meta,
                            std::string field, std::string message, const config::SourceRef* source) {
  config::Diagnostic diagnostic;
  diagnostic.severity = severity;
  diagnostic.source = (source != nullptr && !source->file.empty()) ? *source : meta.source;
  diagnostic.kind = std::string(kind);
  diagnostic.namespace_ = meta.namespace_;
  diagnostic.name = meta.name;
  diagnostic.field = std::move(field);
  diagnostic.message = std::move(message);
  add(std::move(diagnostic));
}

void DiagnosticSink::replay(const config::Diagnostics& diagnostics) {
  for (const config::Diagnostic& diagnostic : diagnostics) add(diagnostic);
}

void DiagnosticSink::add(config::Diagnostic diagnostic) {
  if (recording_ != nullptr) recording_->push_back(diagnostic);
  if (!seen_.insert(diagnostic.format()).second) return;
  diagnostics_.push_back(std::move(diagnostic));
}

}  // namespace torii::compile
