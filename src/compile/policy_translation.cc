#include "compile/policy_translation.h"

#include <re2/re2.h>

#include "config/validate_route_policies.h"

namespace torii::compile {

namespace {

// `fallback_percent`: the deprecated integer, which istiod hands Envoy as
// uint32(n)/100, so a negative n wraps around to "every request".
uint32_t per_million(const std::optional<config::Percent>& percentage, int32_t fallback_percent) {
  if (percentage) return router::percent_to_per_million(percentage->value);
  if (fallback_percent < 0) return 1000000;
  return router::percent_to_per_million(static_cast<double>(fallback_percent));
}

std::optional<router::FaultPolicy> translate_fault(const config::HTTPFaultInjection& in) {
  router::FaultPolicy out;
  if (in.delay && in.delay->fixed_delay_ms > 0) {
    out.has_delay = true;
    out.delay_ms = static_cast<uint64_t>(in.delay->fixed_delay_ms);
    // No percentage: the deprecated integer `percent`, which defaults to 0.
    out.delay_per_million = per_million(in.delay->percentage, in.delay->percent);
  }
  if (in.abort) {
    // No percentage => 0% (Envoy's FaultAbort with an unset percentage).
    const uint32_t fraction = per_million(in.abort->percentage, 0);
    if (in.abort->http_status) {
      out.has_abort = true;
      out.http_status = *in.abort->http_status;
      out.abort_per_million = fraction;
    } else if (in.abort->grpc_status) {
      const int code = config::grpc_status_code(*in.abort->grpc_status);
      if (code >= 0) {
        // Envoy answers a gRPC abort with HTTP 200 and the gRPC status.
        out.has_abort = true;
        out.http_status = 200;
        out.grpc_status = code;
        out.abort_per_million = fraction;
      }
    }
  }
  if (!out.has_delay && !out.has_abort) return std::nullopt;
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::optional<router::CorsPolicy> translate_cors(const config::CorsPolicy& in,
                                                 const config::VirtualService& vs, const std::string& field,
                                                 DiagnosticSink& diagnostics) {
  router::CorsPolicy out;
  auto add_origin = [&](const config::StringMatch& m, size_t i) {
    router::StringMatcher matcher;
    matcher.value = m.value;
    switch (m.kind) {
      case config::StringMatch::Kind::Exact:
        matcher.kind = router::StringMatcher::Kind::Exact;
        break;
      case config::StringMatch::Kind::Prefix:
        matcher.kind = router::StringMatcher::Kind::Prefix;
        break;
      case config::StringMatch::Kind::Regex: {
        matcher.kind = router::StringMatcher::Kind::Regex;
        re2::RE2::Options options;
        options.set_log_errors(false);
        auto regex = std::make_shared<re2::RE2>(m.value, options);
        if (!regex->ok()) {
          diagnostics.error(kVirtualServiceKind, vs.meta, field + ".allowOrigins[" + std::to_string(i) + "]",
                            "invalid RE2 regex; origin matcher dropped");
          return;
        }
        matcher.regex = std::move(regex);
        break;
      }
      case config::StringMatch::Kind::Presence:
        return;  // rejected by validation
    }
    out.allow_origins.push_back(std::move(matcher));
  };
  if (!in.allow_origins.empty()) {
    for (size_t i = 0; i < in.allow_origins.size(); ++i) add_origin(in.allow_origins[i], i);
  } else {
    // Deprecated allowOrigin: exact matches.
    for (size_t i = 0; i < in.allow_origin.size(); ++i)
      add_origin(config::StringMatch{config::StringMatch::Kind::Exact, in.allow_origin[i]}, i);
  }
  out.allow_methods = join(in.allow_methods);
  out.allow_headers = join(in.allow_headers);
  out.expose_headers = join(in.expose_headers);
  if (in.max_age_ms >= 0) out.max_age = std::to_string(in.max_age_ms / 1000);
  out.allow_credentials = in.allow_credentials.value_or(false);
  out.forward_not_matching_preflights = in.unmatched_preflights != "IGNORE";
  return out;
}

}  // namespace

router::RetryPolicy translate_retry_policy(const config::HeapOptional<config::HTTPRetry>& retries) {
  router::RetryPolicy out = router::istio_default_retry_policy();
  if (!retries) return out;
  if (retries->attempts <= 0) return router::RetryPolicy{};  // explicitly disabled
  out.num_retries = static_cast<uint32_t>(retries->attempts);
  if (!retries->retry_on.empty()) router::parse_retry_on(retries->retry_on, out);
  if (retries->per_try_timeout_ms > 0)
    out.per_try_timeout_ms = static_cast<uint64_t>(retries->per_try_timeout_ms);
  if (retries->retry_ignore_previous_hosts) out.avoid_previous_hosts = *retries->retry_ignore_previous_hosts;
  out.retry_remote_localities = retries->retry_remote_localities.value_or(false);
  if (retries->backoff_ms > 0) {
    out.base_interval_ms = static_cast<uint64_t>(retries->backoff_ms);
    out.max_interval_ms = out.base_interval_ms * 10;  // Envoy: max defaults to 10x base
  }
  return out;
}

router::RoutePolicies translate_policies(const config::HTTPRoute& rule, const config::VirtualService& vs,
                                         const std::string& field, const RouteTranslationContext& context) {
  router::RoutePolicies out;
  if (rule.timeout_ms > 0) out.timeout_ms = static_cast<uint64_t>(rule.timeout_ms);
  out.retry = translate_retry_policy(rule.retries);
  const config::HTTPRoutePolicies& p = rule.policies;
  if (p.fault) out.fault = translate_fault(*p.fault);

  auto add_mirror = [&](const config::Destination& destination, uint32_t fraction, const std::string& f) {
    if (fraction == 0) return;  // explicit 0% => no mirroring
    ClusterBuilder::Resolution resolved =
        context.clusters.resolve(destination, vs.meta.namespace_, context.server_port);
    if (resolved.cluster.cluster == nullptr) {
      context.diagnostics.warning(kVirtualServiceKind, vs.meta, f,
                                  "mirror cluster " + resolved.cluster.name + " does not exist (" +
                                      resolved.missing_reason + "); requests are not mirrored",
                                  &rule.source);
    }
    out.mirrors.push_back(router::MirrorPolicy{resolved.cluster.name, resolved.cluster.cluster, fraction});
  };
  if (p.mirror) {
    uint32_t fraction = 1000000;  // absent => 100%
    if (p.mirror_percentage) {
      fraction = router::percent_to_per_million(p.mirror_percentage->value);
    } else if (p.mirror_percent) {
      fraction = router::percent_to_per_million(static_cast<double>(*p.mirror_percent));
    }
    add_mirror(*p.mirror, fraction, field + ".mirror");
  }
  for (size_t i = 0; i < p.mirrors.size(); ++i) {
    const config::HTTPMirrorPolicy& m = p.mirrors[i];
    if (!m.destination) continue;
    const uint32_t fraction = m.percentage ? router::percent_to_per_million(m.percentage->value) : 1000000;
    add_mirror(*m.destination, fraction, field + ".mirrors[" + std::to_string(i) + "].destination");
  }
  if (p.cors_policy)
    out.cors = translate_cors(*p.cors_policy, vs, field + ".corsPolicy", context.diagnostics);
  return out;
}

}  // namespace torii::compile
