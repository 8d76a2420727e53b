// Pieces shared by the validate_*.cc files: a collector that turns messages
// into Diagnostics for one object, and checks used by several kinds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.h"
#include "config/field_lines.h"
#include "config/resources.h"

namespace torii::config {

class Report {
 public:
  Report(std::string kind, const ObjectMeta& meta, const FieldLines& lines)
      : kind_(std::move(kind)), meta_(meta), lines_(lines) {}

  void error(std::string_view field, std::string message);
  void warning(std::string_view field, std::string message);
  // For the `check_*` helpers of names.h: "" means valid.
  void error_unless_empty(std::string_view field, std::string message) {
    if (!message.empty()) error(field, std::move(message));
  }
  bool has_errors() const { return config::has_errors(diagnostics_); }
  Diagnostics take() { return std::move(diagnostics_); }

 private:
  void add(Diagnostic::Severity severity, std::string_view field, std::string message);

  std::string kind_;
  const ObjectMeta& meta_;
  const FieldLines& lines_;
  Diagnostics diagnostics_;
};

// A unix domain socket address (Gateway bind, WorkloadEntry address).
inline constexpr std::string_view kUnixPrefix = "unix://";

// "spec.http" + 2 -> "spec.http[2]".
std::string at(std::string_view field, size_t index);
// "spec.http[0].match[0].headers" + "x-user" -> "...headers[x-user]" (as the loader records map entries).
std::string entry(std::string_view field, std::string_view key);

// Protocols Istio's protocol.Parse knows (Gateway servers, ServiceEntry
// ports; "" = sniffing is checked by callers). Case-insensitive: the loader
// upper-cases.
bool is_known_protocol(std::string_view protocol);
bool is_http_protocol(std::string_view protocol);
bool is_tls_protocol(std::string_view protocol);
bool is_tcp_protocol(std::string_view protocol);

// A route, mirror or delegate destination (istiod validateDestination).
void check_destination(Report& report, const std::string& field, const Destination& destination);

// exportTo rules; `~` is accepted only for ServiceEntry.
void check_export_to(Report& report, std::string_view field, const std::string& namespace_,
                     const std::vector<std::string>& export_to, bool is_service_entry);
void check_labels(Report& report, std::string_view field, const Labels& labels);
// selector / targetRef(s) of a security.istio.io policy: one or the other,
// no wildcard in the selector.
void check_policy_attachment(Report& report, const std::optional<Labels>& selector,
                             const std::vector<PolicyTargetRef>& target_refs);
// DestinationRule trafficPolicy (top level or subset) of a rule in
// `namespace_`; validate_traffic_policy.cc.
void check_traffic_policy(Report& report, const std::string& field, const TrafficPolicy& policy,
                          const std::string& namespace_);

// Envoy limits regex program size; istiod approximates it with the length.
inline constexpr size_t kMaxRegexLength = 1024;

// Empty when `re` is a usable RE2 pattern (Istio's limit: 1024 characters);
// else why not, as istiod words it.
std::string check_regex(const std::string& re);

}  // namespace torii::config
