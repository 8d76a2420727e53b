// VirtualService HTTP rule policies -> HTTPRoutePolicies: fault, mirror,
// mirrorPercentage / mirrorPercent, mirrors, corsPolicy; and the retry fields
// the core parser does not read (backoff, retryIgnorePreviousHosts).
#include <algorithm>
#include <optional>
#include <string>

#include "config/parsers.h"

namespace torii::config {
namespace {

std::optional<double> read_double(const Field& f) {
  if (!f.present()) return std::nullopt;
  const std::optional<double> value =
      f.node().IsScalar() ? scalar_to_double(f.node().Scalar()) : std::nullopt;
  if (!value) f.error("expected a number");
  return value;
}

// Istio Percent is a message: `percentage: {value: 12.5}`.
std::optional<Percent> read_percent(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  return Percent{read_double(f["value"]).value_or(0)};
}

// `mirrorPercent: 50` (deprecated UInt32Value) is written as a bare number.
std::optional<int32_t> read_optional_percent(const Field& f) {
  if (!f.present()) return std::nullopt;
  return static_cast<int32_t>(std::min<uint32_t>(f.uint32(), 1000));  // > 100 is an error anyway
}

Destination read_mirror_destination(const Field& f) {
  Destination d;
  if (!f.expect_map()) return d;
  d.host = f["host"].string();
  d.subset = f["subset"].string();
  const Field port = f["port"];
  if (port.expect_map()) d.port.number = port["number"].uint32();
  return d;
}

std::optional<HTTPFaultInjection> read_fault(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  HTTPFaultInjection fault;
  const Field delay = f["delay"];
  if (delay.expect_map()) {
    HTTPFaultInjection::Delay d;
    d.fixed_delay_ms = delay["fixedDelay"].duration_ms();
    d.exponential_delay = delay["exponentialDelay"].present();
    d.percentage = read_percent(delay["percentage"]);
    d.percent = delay["percent"].int32();
    fault.delay = d;
  }
  const Field abort = f["abort"];
  if (abort.expect_map()) {
    HTTPFaultInjection::Abort a;
    if (abort["httpStatus"].present()) a.http_status = abort["httpStatus"].int32();
    if (abort["grpcStatus"].present()) a.grpc_status = abort["grpcStatus"].string();
    a.http2_error = abort["http2Error"].present();
    a.percentage = read_percent(abort["percentage"]);
    fault.abort = a;
  }
  return fault;
}

std::vector<StringMatch> read_string_matches(const Field& f) {
  std::vector<StringMatch> out;
  for (const Field& item : f.items()) {
    if (auto m = read_string_match(item)) out.push_back(*m);
  }
  return out;
}

std::optional<CorsPolicy> read_cors_policy(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  CorsPolicy cors;
  cors.allow_origins = read_string_matches(f["allowOrigins"]);
  cors.allow_origin = f["allowOrigin"].strings();
  cors.allow_methods = f["allowMethods"].strings();
  cors.allow_headers = f["allowHeaders"].strings();
  cors.expose_headers = f["exposeHeaders"].strings();
  cors.max_age_ms = f["maxAge"].duration_ms();
  cors.allow_credentials = f["allowCredentials"].optional_boolean();
  cors.unmatched_preflights = f["unmatchedPreflights"].upper_string();
  return cors;
}

}  // namespace

void read_route_policies(const Field& rule, HTTPRoute& out) {
  HTTPRoutePolicies& p = out.policies;
  p.fault = read_fault(rule["fault"]);
  if (rule["mirror"].expect_map()) p.mirror = read_mirror_destination(rule["mirror"]);
  p.mirror_percentage = read_percent(rule["mirrorPercentage"]);
  p.mirror_percent = read_optional_percent(rule["mirrorPercent"]);
  for (const Field& m : rule["mirrors"].items()) {
    HTTPMirrorPolicy mirror;
    if (m.expect_map()) {
      if (m["destination"].expect_map()) mirror.destination = read_mirror_destination(m["destination"]);
      mirror.percentage = read_percent(m["percentage"]);
    }
    p.mirrors.push_back(std::move(mirror));
  }
  p.cors_policy = read_cors_policy(rule["corsPolicy"]);

  const Field retries = rule["retries"];
  if (out.retries && retries.expect_map()) {
    out.retries->backoff_ms = retries["backoff"].duration_ms();
    out.retries->retry_ignore_previous_hosts = retries["retryIgnorePreviousHosts"].optional_boolean();
  }
}

}  // namespace torii::config
