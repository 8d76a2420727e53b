#include "config/validate_route_policies.h"

#include <re2/re2.h>

#include <charconv>
#include <cstdio>

#include "config/names.h"

namespace torii::config {
namespace {

// Go's %v for a float64: the shortest representation ("50", "0.00005").
std::string go_float(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  (void)ec;
  return std::string(buffer, end);
}

// Go's %f: six decimals.
std::string go_fixed(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%f", value);
  return buffer;
}

// istiod validatePercentage: 0, or within [0.0001, 100].
void check_percentage(Report& r, const std::string& field, const std::optional<Percent>& percentage) {
  if (!percentage) return;
  const double v = percentage->value;
  if (v < 0.0 || v > 100.0 || (v > 0.0 && v < 0.0001)) {
    r.error(field, "percentage " + go_float(v) + " is neither 0.0, nor in range [0.0001, 100.0]");
  }
}

void check_duration(Report& r, const std::string& field, int64_t ms) {
  if (ms != -1 && ms < 1) r.error(field, "duration must be greater than 1ms");
}

// istiod ValidateCORSHTTPHeaderName: "*" or an HTTP token.
void check_cors_header_name(Report& r, const std::string& field, const std::string& name) {
  if (name.empty()) {
    r.error(field, "header name cannot be empty");
  } else if (name != "*" && !is_http_token(name)) {
    r.error(field, "header name " + name + " is not a valid header name");
  }
}

void check_fault(Report& r, const std::string& field, const HTTPFaultInjection& fault) {
  if (!fault.delay && !fault.abort) r.error(field, "HTTP fault injection must have an abort and/or a delay");
  if (fault.abort) {
    const HTTPFaultInjection::Abort& abort = *fault.abort;
    const std::string f = field + ".abort";
    check_percentage(r, f + ".percentage", abort.percentage);
    const int kinds = (abort.http_status ? 1 : 0) + (abort.grpc_status ? 1 : 0) + (abort.http2_error ? 1 : 0);
    if (kinds > 1) r.error(f, "only one of httpStatus, grpcStatus or http2Error may be set");
    if (abort.http_status) {
      const int32_t status = *abort.http_status;
      // 600 passes, as in istiod, despite the message.
      if (status < 200 || status > 600) {
        r.error(f + ".httpStatus", "HTTP status " + std::to_string(status) + " is not in range 200-599");
      }
    } else if (abort.grpc_status) {
      if (grpc_status_code(*abort.grpc_status) < 0) {
        r.error(f + ".grpcStatus",
                "gRPC status \"" + *abort.grpc_status +
                    "\" is not supported. See "
                    "https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list "
                    "of supported codes");
      }
    } else if (abort.http2_error) {
      r.error(f + ".http2Error", "HTTP/2 abort fault injection not supported yet");
    } else {
      r.warning(f, "abort configured, but error type not set");
    }
  }
  if (fault.delay) {
    const HTTPFaultInjection::Delay& delay = *fault.delay;
    const std::string f = field + ".delay";
    check_percentage(r, f + ".percentage", delay.percentage);
    // istiod does not check the deprecated integer; Envoy gets it as n/100,
    // which it caps at 100% (a negative n wraps to a huge numerator).
    if (!delay.percentage && (delay.percent < 0 || delay.percent > 100)) {
      r.warning(f + ".percent", "percentage " + std::to_string(delay.percent) +
                                    " is not in range 0..100; the delay applies to every request");
    }
    check_duration(r, f + ".fixedDelay", delay.fixed_delay_ms);
    if (delay.exponential_delay) r.error(f + ".exponentialDelay", "exponentialDelay not supported yet");
    if (delay.fixed_delay_ms == -1 && !delay.exponential_delay) {
      // istiod accepts it and Envoy gets no delay (TranslateFault drops it).
      r.warning(f, "delay has no fixedDelay; no delay is injected");
    }
  }
}

void check_mirrors(Report& r, const std::string& field, const HTTPRoute& route) {
  const HTTPRoutePolicies& p = route.policies;
  // istiod checks this with the actions, which it skips for a delegating
  // rule (validateHTTPRouteConflict); its delegates inherit both then.
  if (p.mirror && !p.mirrors.empty() && !route.delegate) {
    r.error(field, "HTTP route cannot contain both mirror and mirrors");
  }
  if (p.mirror) check_destination(r, field + ".mirror", *p.mirror);
  if (p.mirror_percentage) {
    const double v = p.mirror_percentage->value;
    if (v > 100) {
      r.error(field + ".mirrorPercentage",
              "mirror_percentage must have a max value of 100 (it has " + go_fixed(v) + ")");
    }
    if (v < 0) {
      r.error(field + ".mirrorPercentage",
              "mirror_percentage must have a min value of 0 (it has " + go_fixed(v) + ")");
    }
  }
  if (p.mirror_percent) {
    if (*p.mirror_percent > 100) {
      r.error(field + ".mirrorPercent", "mirror_percent must have a max value of 100 (it has " +
                                            std::to_string(*p.mirror_percent) + ")");
    }
    r.warning(field + ".mirrorPercent",
              "using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" instead");
  }
  for (size_t i = 0; i < p.mirrors.size(); ++i) {
    const HTTPMirrorPolicy& m = p.mirrors[i];
    const std::string f = at(field + ".mirrors", i);
    if (!m.destination) {
      r.error(f + ".destination", "destination is required for mirrors");
      continue;
    }
    check_destination(r, f + ".destination", *m.destination);
    if (m.percentage) {
      const double v = m.percentage->value;
      if (v > 100) {
        r.error(f + ".percentage",
                "mirror percentage must have a max value of 100 (it has " + go_fixed(v) + ")");
      }
      if (v < 0) {
        r.error(f + ".percentage",
                "mirror percentage must have a min value of 0 (it has " + go_fixed(v) + ")");
      }
    }
  }
}

// istiod supportedCORSMethods: Go's net/http methods and "*".
bool is_cors_method(const std::string& method) {
  static const char* const kMethods[] = {"GET",    "HEAD",    "POST",    "PUT",   "PATCH",
                                         "DELETE", "OPTIONS", "CONNECT", "TRACE", "*"};
  for (const char* m : kMethods) {
    if (method == m) return true;
  }
  return false;
}

void check_cors(Report& r, const std::string& field, const CorsPolicy& cors) {
  for (size_t i = 0; i < cors.allow_origins.size(); ++i) {
    const StringMatch& m = cors.allow_origins[i];
    const std::string f = at(field + ".allowOrigins", i);
    if (m.kind == StringMatch::Kind::Presence || m.value.empty()) {
      r.error(f, "'' is not a valid match type for CORS allow origins");
      continue;
    }
    if (m.kind == StringMatch::Kind::Regex) r.error_unless_empty(f + ".regex", check_regex(m.value));
  }
  for (size_t i = 0; i < cors.allow_methods.size(); ++i) {
    if (!is_cors_method(cors.allow_methods[i])) {
      r.error(at(field + ".allowMethods", i),
              "\"" + cors.allow_methods[i] + "\" is not a supported HTTP method");
    }
  }
  for (size_t i = 0; i < cors.allow_headers.size(); ++i)
    check_cors_header_name(r, at(field + ".allowHeaders", i), cors.allow_headers[i]);
  for (size_t i = 0; i < cors.expose_headers.size(); ++i)
    check_cors_header_name(r, at(field + ".exposeHeaders", i), cors.expose_headers[i]);
  if (cors.max_age_ms != -1) {
    check_duration(r, field + ".maxAge", cors.max_age_ms);
    if (cors.max_age_ms % 1000 != 0)
      r.error(field + ".maxAge", "max_age duration is accurate only to seconds precision");
  }
  const std::string& u = cors.unmatched_preflights;
  if (!u.empty() && u != "UNSPECIFIED" && u != "FORWARD" && u != "IGNORE") {
    r.error(field + ".unmatchedPreflights",
            "invalid value \"" + u + "\" (expected UNSPECIFIED, FORWARD or IGNORE)");
  }
}

}  // namespace

int grpc_status_code(std::string_view name) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  for (int i = 0; i < static_cast<int>(std::size(kNames)); ++i) {
    if (name == kNames[i]) return i;
  }
  return -1;
}

void check_route_policies(Report& r, const std::string& field, const HTTPRoute& route) {
  const HTTPRoutePolicies& p = route.policies;
  if (p.fault) check_fault(r, field + ".fault", *p.fault);
  check_mirrors(r, field, route);
  if (p.cors_policy) check_cors(r, field + ".corsPolicy", *p.cors_policy);
  if (route.retries) check_duration(r, field + ".retries.backoff", route.retries->backoff_ms);
}

}  // namespace torii::config
