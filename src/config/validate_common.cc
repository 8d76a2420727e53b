#include "config/validate_common.h"

#include <set>

#include <re2/re2.h>

#include "config/names.h"

namespace torii::config {

void Report::add(Diagnostic::Severity severity, std::string_view field, std::string message) {
  Diagnostic d;
  d.severity = severity;
  d.source = SourceRef{meta_.source.file, line_of(lines_, field, meta_.source.line)};
  d.kind = kind_;
  d.namespace_ = meta_.namespace_;
  d.name = meta_.name;
  d.field = std::string(field);
  d.message = std::move(message);
  diagnostics_.push_back(std::move(d));
}

void Report::error(std::string_view field, std::string message) {
  add(Diagnostic::Severity::Error, field, std::move(message));
}

void Report::warning(std::string_view field, std::string message) {
  add(Diagnostic::Severity::Warning, field, std::move(message));
}

std::string at(std::string_view field, size_t index) {
  return std::string(field) + "[" + std::to_string(index) + "]";
}

std::string entry(std::string_view field, std::string_view key) {
  return std::string(field) + "[" + std::string(key) + "]";
}

bool is_known_protocol(std::string_view p) {
  return p == "HTTP" || p == "HTTPS" || p == "GRPC" || p == "GRPC-WEB" || p == "HTTP2" || p == "MONGO" ||
         p == "TCP" || p == "TLS" || p == "REDIS" || p == "MYSQL" || p == "UDP" || p == "HTTP_PROXY";
}

bool is_http_protocol(std::string_view p) {
  return p == "HTTP" || p == "HTTP2" || p == "GRPC" || p == "GRPC-WEB" || p == "HTTP_PROXY";
}

bool is_tls_protocol(std::string_view p) { return p == "HTTPS" || p == "TLS"; }

bool is_tcp_protocol(std::string_view p) {
  return p == "TCP" || p == "HTTPS" || p == "TLS" || p == "MONGO" || p == "REDIS" || p == "MYSQL";
}

void check_export_to(Report& report, std::string_view field, const std::string& namespace_,
                     const std::vector<std::string>& export_to, bool is_service_entry) {
  std::set<std::string> seen;
  for (size_t i = 0; i < export_to.size(); ++i) {
    const std::string& e = export_to[i];
    // "." is the object's own namespace, so "." and that name are duplicates.
    const std::string key = e == "." ? namespace_ : e;
    if (seen.contains(key)) {
      report.error(at(field, i), key != e
                                     ? "duplicate entries in exportTo: . and current namespace " + namespace_
                                     : "duplicate entries in exportTo for entry " + e);
      continue;
    }
    if (e == "~" && is_service_entry) {
      seen.insert(key);
    } else if (e == "~") {
      report.error(at(field, i), "exportTo ~ (none) is not allowed for Istio configuration objects");
    } else if (e != "*" && e != "." && !is_dns1123_label(key)) {
      report.error(at(field, i), "only .,*, or a valid DNS 1123 label is allowed as exportTo entry");
    } else {
      seen.insert(key);
    }
  }
  if (seen.contains("*") && export_to.size() > 1) {
    report.error(field, "cannot have both public (*) and non-public exportTo values for a resource");
  }
  if (seen.contains("~") && export_to.size() > 1) {
    report.error(field, "cannot export service entry to no one (~) and someone");
  }
}

void check_labels(Report& report, std::string_view field, const Labels& labels) {
  for (std::string& message : check_labels(labels)) report.error(field, std::move(message));
}

void check_destination(Report& r, const std::string& field, const Destination& d) {
  if (d.host == "*") {
    r.error(field + ".host", "invalid destination host *");
  } else {
    r.error_unless_empty(field + ".host", check_wildcard_domain(d.host));
  }
  if (!d.subset.empty() && !is_dns1123_label(d.subset)) {
    r.error(field + ".subset", "subset name is invalid: " + d.subset);
  }
  if (d.port.number != 0) r.error_unless_empty(field + ".port.number", check_port(d.port.number));
}

void check_policy_attachment(Report& report, const std::optional<Labels>& selector,
                             const std::vector<PolicyTargetRef>& target_refs) {
  if (selector && !target_refs.empty()) {
    report.error("spec.targetRefs", "only one of selector or targetRef(s) may be set");
  }
  if (!selector) return;
  for (const auto& [k, v] : *selector) {
    if (k.find('*') != std::string::npos || v.find('*') != std::string::npos) {
      report.error(entry("spec.selector.matchLabels", k), "wildcard is not supported in selector");
    }
  }
}

std::string check_regex(const std::string& re) {
  if (re.size() > kMaxRegexLength) {
    return "regex is too large, max length allowed is " + std::to_string(kMaxRegexLength);
  }
  const RE2 compiled(re, RE2::Quiet);
  if (compiled.ok()) return "";
  return "\"" + re + "\" is not a valid regex: " + compiled.error() +
         "; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)";
}

}  // namespace torii::config
