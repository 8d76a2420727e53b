// Gateway API kinds: gwapi::GatewayClass, Gateway, HTTPRoute, gwapi::ReferenceGrant
// (gateway.networking.k8s.io). On Kubernetes the API server fills in the CRD
// defaults before a controller sees an object, and Istio relies on that (it
// reads `path` unconditionally); Torii reads files, so the defaults are
// applied here (GATEWAY_API.md §0).
#include <re2/re2.h>

#include "config/parsers.h"
#include "config/validate_common.h"

namespace torii::config {
namespace {

std::string string_or(const Field& f, std::string fallback) {
  std::optional<std::string> value = f.optional_string();
  return value ? *value : std::move(fallback);
}

gwapi::LabelSelector read_label_selector(const Field& f) {
  gwapi::LabelSelector s;
  if (!f.expect_map()) return s;
  s.match_labels = f["matchLabels"].string_map();
  for (const Field& e : f["matchExpressions"].items()) {
    if (!e.expect_map()) continue;
    s.match_expressions.push_back({e["key"].string(), e["operator"].string(), e["values"].strings()});
  }
  return s;
}

gwapi::Listener read_listener(const Field& f) {
  gwapi::Listener l;
  l.source = f.source();
  if (!f.expect_map()) return l;
  l.name = f["name"].string();
  l.hostname = f["hostname"].string();
  l.port = f["port"].uint32();
  l.protocol = f["protocol"].string();
  const Field tls = f["tls"];
  if (tls.expect_map()) {
    gwapi::Listener::Tls t;
    t.mode = string_or(tls["mode"], "Terminate");
    for (const Field& c : tls["certificateRefs"].items()) {
      gwapi::SecretObjectReference ref;
      if (c.expect_map()) {
        ref.group = c["group"].string();
        ref.kind = string_or(c["kind"], "Secret");
        ref.name = c["name"].string();
        ref.namespace_ = c["namespace"].string();
      }
      t.certificate_refs.push_back(std::move(ref));
    }
    t.options = tls["options"].string_map();
    l.tls = std::move(t);
  }
  const Field allowed = f["allowedRoutes"];
  if (allowed.expect_map()) {
    const Field namespaces = allowed["namespaces"];
    if (namespaces.expect_map()) {
      l.from = string_or(namespaces["from"], "Same");
      if (namespaces["selector"].present()) l.selector = read_label_selector(namespaces["selector"]);
    }
    if (allowed["kinds"].present()) {
      std::vector<gwapi::RouteGroupKind> kinds;
      for (const Field& k : allowed["kinds"].items()) {
        gwapi::RouteGroupKind rgk;
        if (k.expect_map()) {
          rgk.group = string_or(k["group"], gwapi::kGroup);
          rgk.kind = k["kind"].string();
        }
        kinds.push_back(std::move(rgk));
      }
      l.kinds = std::move(kinds);
    }
  }
  return l;
}

gwapi::ParentReference read_parent_ref(const Field& f) {
  gwapi::ParentReference p;
  if (!f.expect_map()) return p;
  p.group = string_or(f["group"], gwapi::kGroup);
  p.kind = string_or(f["kind"], "Gateway");
  p.namespace_ = f["namespace"].string();
  p.name = f["name"].string();
  p.section_name = f["sectionName"].string();
  p.port = f["port"].uint32();
  return p;
}

gwapi::BackendObjectReference read_backend_object_ref(const Field& f) {
  gwapi::BackendObjectReference b;
  if (!f.expect_map()) return b;
  b.group = f["group"].string();
  b.kind = string_or(f["kind"], "Service");
  b.name = f["name"].string();
  b.namespace_ = f["namespace"].string();
  b.port = f["port"].uint32();
  return b;
}

std::vector<gwapi::HTTPValueMatch> read_value_matches(const Field& list) {
  std::vector<gwapi::HTTPValueMatch> out;
  for (const Field& f : list.items()) {
    gwapi::HTTPValueMatch m;
    if (f.expect_map()) {
      m.type = string_or(f["type"], "Exact");
      m.name = f["name"].string();
      m.value = f["value"].string();
    }
    out.push_back(std::move(m));
  }
  return out;
}

gwapi::HTTPRouteMatch read_match(const Field& f) {
  gwapi::HTTPRouteMatch m;
  if (!f.expect_map()) return m;
  const Field path = f["path"];
  if (path.expect_map()) {
    m.path.type = string_or(path["type"], "PathPrefix");
    m.path.value = string_or(path["value"], "/");
  }
  m.headers = read_value_matches(f["headers"]);
  m.query_params = read_value_matches(f["queryParams"]);
  m.method = f["method"].string();
  return m;
}

std::optional<gwapi::HTTPHeaderFilter> read_header_filter(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  gwapi::HTTPHeaderFilter h;
  auto pairs = [](const Field& list) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Field& e : list.items()) {
      if (e.expect_map()) out.emplace_back(e["name"].string(), e["value"].string());
    }
    return out;
  };
  h.set = pairs(f["set"]);
  h.add = pairs(f["add"]);
  h.remove = f["remove"].strings();
  return h;
}

std::optional<gwapi::HTTPPathModifier> read_path_modifier(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  gwapi::HTTPPathModifier p;
  p.type = f["type"].string();
  p.replace_full_path = f["replaceFullPath"].string();
  p.replace_prefix_match = f["replacePrefixMatch"].string();
  return p;
}

gwapi::HTTPRouteFilter read_filter(const Field& f) {
  gwapi::HTTPRouteFilter filter;
  filter.source = f.source();
  if (!f.expect_map()) return filter;
  filter.type = f["type"].string();
  filter.request_header_modifier = read_header_filter(f["requestHeaderModifier"]);
  filter.response_header_modifier = read_header_filter(f["responseHeaderModifier"]);
  const Field redirect = f["requestRedirect"];
  if (redirect.expect_map()) {
    gwapi::HTTPRouteFilter::Redirect r;
    r.scheme = redirect["scheme"].string();
    r.hostname = redirect["hostname"].string();
    r.path = read_path_modifier(redirect["path"]);
    r.port = redirect["port"].uint32();
    if (redirect["statusCode"].present()) r.status_code = redirect["statusCode"].uint32();
    filter.request_redirect = std::move(r);
  }
  const Field rewrite = f["urlRewrite"];
  if (rewrite.expect_map()) {
    filter.url_rewrite =
        gwapi::HTTPRouteFilter::Rewrite{rewrite["hostname"].string(), read_path_modifier(rewrite["path"])};
  }
  const Field mirror = f["requestMirror"];
  if (mirror.expect_map()) {
    gwapi::HTTPRouteFilter::Mirror m;
    m.backend_ref = read_backend_object_ref(mirror["backendRef"]);
    if (mirror["percent"].present()) m.percent = mirror["percent"].uint32();
    const Field fraction = mirror["fraction"];
    if (fraction.expect_map()) {
      const int32_t denominator = fraction["denominator"].present() ? fraction["denominator"].int32() : 100;
      m.fraction = std::make_pair(fraction["numerator"].int32(), denominator);
    }
    filter.request_mirror = std::move(m);
  }
  const Field cors = f["cors"];
  if (cors.expect_map()) {
    gwapi::HTTPRouteFilter::Cors c;
    c.allow_origins = cors["allowOrigins"].strings();
    c.allow_credentials = cors["allowCredentials"].boolean();
    c.allow_methods = cors["allowMethods"].strings();
    c.allow_headers = cors["allowHeaders"].strings();
    c.expose_headers = cors["exposeHeaders"].strings();
    if (cors["maxAge"].present()) c.max_age_s = cors["maxAge"].int32();
    filter.cors = std::move(c);
  }
  return filter;
}

void read_backend_refs(const Field& list, gwapi::HTTPRouteRule& rule) {
  for (const Field& b : list.items()) {
    gwapi::HTTPBackendRef ref;
    ref.ref = read_backend_object_ref(b);
    if (b.expect_map()) {
      if (b["weight"].present()) ref.weight = b["weight"].int32();
      for (const Field& filter : b["filters"].items()) ref.filters.push_back(read_filter(filter));
    }
    rule.backend_refs.push_back(std::move(ref));
  }
}

// A GRPCRoute match as istiod's createGRPCURIMatch turns it into a path
// match (gRPC's path is /<service>/<method>): Exact service and method ->
// the exact path; service only -> any method of it; method only -> that
// method of any service; RegularExpression -> the two parts as regexes.
gwapi::HTTPRouteMatch read_grpc_match(const Field& f) {
  gwapi::HTTPRouteMatch m;  // no method match: PathPrefix "/", every call
  if (!f.expect_map()) return m;
  m.headers = read_value_matches(f["headers"]);
  const Field method = f["method"];
  if (!method.expect_map()) return m;
  const std::string type = string_or(method["type"], "Exact");
  const std::optional<std::string> service = method["service"].optional_string();
  const std::optional<std::string> name = method["method"].optional_string();
  if (!service && !name) {
    method.error("a gRPC method match needs service or method (or both)");
    return m;
  }
  if (type == "Exact") {
    // The CRD's patterns: a service is a dotted proto name, a method an identifier.
    static const re2::RE2 kService("(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*");
    static const re2::RE2 kMethod("[A-Za-z_][A-Za-z_0-9]*");
    if (service && !re2::RE2::FullMatch(*service, kService))
      method["service"].error("\"" + *service + "\" is not a gRPC service name (package.Service)");
    if (name && !re2::RE2::FullMatch(*name, kMethod))
      method["method"].error("\"" + *name + "\" is not a gRPC method name");
    if (service && name) {
      m.path = {"Exact", "/" + *service + "/" + *name};
    } else if (service) {
      m.path = {"RegularExpression", "/" + re2::RE2::QuoteMeta(*service) + "/[^/]+"};
    } else {
      m.path = {"RegularExpression", "/[^/]+/" + re2::RE2::QuoteMeta(*name)};
    }
  } else if (type == "RegularExpression") {
    for (const auto& [part, value] : {std::pair{"service", service}, std::pair{"method", name}}) {
      if (!value) continue;
      if (std::string why = check_regex(*value); !why.empty()) method[part].error(why);
    }
    m.path = {"RegularExpression", "/" + service.value_or("[^/]+") + "/" + name.value_or("[^/]+")};
  } else {
    method["type"].error("type must be Exact or RegularExpression");
  }
  return m;
}

gwapi::HTTPRouteRule read_grpc_rule(const Field& f) {
  gwapi::HTTPRouteRule rule;
  rule.source = f.source();
  if (f.expect_map()) {
    rule.name = f["name"].string();
    for (const Field& m : f["matches"].items()) rule.matches.push_back(read_grpc_match(m));
    for (const Field& filter : f["filters"].items()) rule.filters.push_back(read_filter(filter));
    read_backend_refs(f["backendRefs"], rule);
  }
  if (rule.matches.empty()) rule.matches.emplace_back();  // every call
  return rule;
}

gwapi::HTTPRouteRule read_rule(const Field& f) {
  gwapi::HTTPRouteRule rule;
  rule.source = f.source();
  if (f.expect_map()) {
    rule.name = f["name"].string();
    for (const Field& m : f["matches"].items()) rule.matches.push_back(read_match(m));
    for (const Field& filter : f["filters"].items()) rule.filters.push_back(read_filter(filter));
    read_backend_refs(f["backendRefs"], rule);
    const Field timeouts = f["timeouts"];
    if (timeouts.expect_map()) {
      if (timeouts["request"].present()) rule.request_timeout_ms = timeouts["request"].duration_ms();
      if (timeouts["backendRequest"].present())
        rule.backend_request_timeout_ms = timeouts["backendRequest"].duration_ms();
    }
    const Field retry = f["retry"];
    if (retry.expect_map()) {
      gwapi::HTTPRouteRule::Retry r;
      for (const Field& code : retry["codes"].items()) r.codes.push_back(code.uint32());
      if (retry["attempts"].present()) r.attempts = retry["attempts"].int32();
      if (retry["backoff"].present()) r.backoff_ms = retry["backoff"].duration_ms();
      rule.retry = std::move(r);
    }
  }
  // CRD default: no matches = one match on PathPrefix "/".
  if (rule.matches.empty()) rule.matches.emplace_back();
  return rule;
}

}  // namespace

void read_gateway_class(const Field& spec, gwapi::GatewayClass& out) {
  if (!spec.expect_map()) return;
  out.controller_name = spec["controllerName"].string();
}

void read_k8s_gateway(const Field& spec, gwapi::Gateway& out) {
  if (!spec.expect_map()) return;
  out.gateway_class_name = spec["gatewayClassName"].string();
  for (const Field& l : spec["listeners"].items()) out.listeners.push_back(read_listener(l));
  for (const Field& a : spec["addresses"].items()) {
    if (a.expect_map()) out.addresses.push_back(a["value"].string());
  }
}

void read_http_route(const Field& spec, gwapi::HTTPRoute& out) {
  if (spec.expect_map()) {
    for (const Field& p : spec["parentRefs"].items()) out.parent_refs.push_back(read_parent_ref(p));
    out.hostnames = spec["hostnames"].strings();
    for (const Field& r : spec["rules"].items()) out.rules.push_back(read_rule(r));
  }
  // CRD default: no rules = one rule matching PathPrefix "/" (and no backends).
  if (out.rules.empty()) {
    gwapi::HTTPRouteRule rule;
    rule.source = out.meta.source;
    rule.matches.emplace_back();
    out.rules.push_back(std::move(rule));
  }
}

void read_grpc_route(const Field& spec, gwapi::HTTPRoute& out) {
  out.kind = "GRPCRoute";
  if (spec.expect_map()) {
    for (const Field& p : spec["parentRefs"].items()) out.parent_refs.push_back(read_parent_ref(p));
    out.hostnames = spec["hostnames"].strings();
    for (const Field& r : spec["rules"].items()) out.rules.push_back(read_grpc_rule(r));
  }
  if (out.rules.empty()) {
    gwapi::HTTPRouteRule rule;
    rule.source = out.meta.source;
    rule.matches.emplace_back();
    out.rules.push_back(std::move(rule));
  }
}

void read_l4_route(const Field& spec, gwapi::HTTPRoute& out, std::string kind) {
  out.kind = std::move(kind);
  if (spec.expect_map()) {
    for (const Field& p : spec["parentRefs"].items()) out.parent_refs.push_back(read_parent_ref(p));
    if (out.kind == "TLSRoute") out.hostnames = spec["hostnames"].strings();
    for (const Field& r : spec["rules"].items()) {
      gwapi::HTTPRouteRule rule;
      rule.source = r.source();
      if (r.expect_map()) {
        rule.name = r["name"].string();
        read_backend_refs(r["backendRefs"], rule);
      }
      rule.matches.emplace_back();  // unused at layer 4; the HTTPRoute shape keeps one
      out.rules.push_back(std::move(rule));
    }
  }
  if (out.rules.empty()) spec["rules"].error(out.kind + " needs at least one rule");
}

void read_reference_grant(const Field& spec, gwapi::ReferenceGrant& out) {
  if (!spec.expect_map()) return;
  for (const Field& f : spec["from"].items()) {
    if (f.expect_map())
      out.from.push_back({f["group"].string(), f["kind"].string(), f["namespace"].string()});
  }
  for (const Field& t : spec["to"].items()) {
    if (t.expect_map()) out.to.push_back({t["group"].string(), t["kind"].string(), t["name"].string()});
  }
}

}  // namespace torii::config
