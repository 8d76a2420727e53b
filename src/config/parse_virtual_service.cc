// VirtualService spec -> VirtualService.
#include <optional>
#include <string>

#include "config/parsers.h"

namespace torii::config {
namespace {

PortSelector read_port_selector(const Field& f) {
  PortSelector port;
  if (f.expect_map()) port.number = f["number"].uint32();
  return port;
}

Destination read_destination(const Field& f) {
  Destination d;
  if (!f.expect_map()) return d;
  d.host = f["host"].string();
  d.subset = f["subset"].string();
  d.port = read_port_selector(f["port"]);
  return d;
}

HeaderOperations read_header_operations(const Field& f) {
  HeaderOperations ops;
  if (!f.expect_map()) return ops;
  ops.set = f["set"].string_map();
  ops.add = f["add"].string_map();
  ops.remove = f["remove"].strings();
  return ops;
}

std::optional<Headers> read_headers(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  Headers h;
  h.request = read_header_operations(f["request"]);
  h.response = read_header_operations(f["response"]);
  return h;
}

enum class MapKind { Headers, WithoutHeaders, QueryParams };

// istiod: a null `headers` entry is an error ("cannot be null"); elsewhere
// null reads like `{}` (presence). In withoutHeaders, `regex: "*"` is not a
// regex but presence (istiod canBeConvertedToPresentMatch); anywhere else it
// is an invalid regex, as validation says.
std::map<std::string, StringMatch> read_string_match_map(const Field& f, MapKind kind) {
  std::map<std::string, StringMatch> out;
  for (const auto& [name, value] : f.entries()) {
    if (kind == MapKind::Headers && !value.present() && value.node().IsDefined()) {
      value.error("header match " + name + " cannot be null (write {} for \"the header is present\")");
      continue;
    }
    std::optional<StringMatch> m = read_string_match(value);
    if (!m) continue;
    if (kind == MapKind::WithoutHeaders && m->kind == StringMatch::Kind::Regex && m->value == "*") {
      m = StringMatch{};
    }
    out[name] = *m;
  }
  return out;
}

HTTPMatchRequest read_match(const Field& f) {
  HTTPMatchRequest m;
  m.source = f.source();
  if (!f.expect_map()) return m;
  m.name = f["name"].string();
  m.uri = read_string_match(f["uri"]);
  m.scheme = read_string_match(f["scheme"]);
  m.method = read_string_match(f["method"]);
  m.authority = read_string_match(f["authority"]);
  m.headers = read_string_match_map(f["headers"], MapKind::Headers);
  m.without_headers = read_string_match_map(f["withoutHeaders"], MapKind::WithoutHeaders);
  m.query_params = read_string_match_map(f["queryParams"], MapKind::QueryParams);
  m.port = f["port"].uint32();
  m.gateways = f["gateways"].strings();
  m.source_labels = f["sourceLabels"].string_map();
  m.source_namespace = f["sourceNamespace"].string();
  m.ignore_uri_case = f["ignoreUriCase"].boolean();
  return m;
}

HTTPRouteDestination read_route_destination(const Field& f) {
  HTTPRouteDestination d;
  if (!f.expect_map()) return d;
  d.destination = read_destination(f["destination"]);
  const Field weight = f["weight"];
  d.weight_set = weight.present();
  d.weight = weight.int32();
  d.headers = read_headers(f["headers"]);
  return d;
}

std::optional<HTTPRedirect> read_redirect(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  HTTPRedirect r;
  r.uri = f["uri"].string();
  r.authority = f["authority"].string();
  r.scheme = f["scheme"].string();
  r.prefix_rewrite = f["prefixRewrite"].string();
  r.port = f["port"].uint32();
  r.derive_port = f["derivePort"].upper_string();
  r.redirect_code = f["redirectCode"].uint32();
  if (f["port"].present() && f["derivePort"].present()) {
    f["derivePort"].error("only one of port or derivePort may be set");
  }
  return r;
}

std::optional<HTTPDirectResponse> read_direct_response(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  HTTPDirectResponse r;
  r.status = f["status"].uint32();
  const Field body = f["body"];
  if (body.expect_map()) {
    const Field text = body["string"];
    const Field bytes = body["bytes"];
    if (text.present() && bytes.present()) {
      body.error("only one of string or bytes may be set");
    } else if (text.present()) {
      r.body = text.string();
    } else if (bytes.present()) {
      const std::string encoded = bytes.string();
      if (auto decoded = decode_base64(encoded)) {
        r.body = std::move(*decoded);
      } else {
        bytes.error("invalid base64 data");
      }
    }
  }
  return r;
}

std::optional<HTTPRewrite> read_rewrite(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  HTTPRewrite r;
  r.uri = f["uri"].string();
  r.authority = f["authority"].string();
  const Field regex = f["uriRegexRewrite"];
  if (regex.expect_map()) r.uri_regex_rewrite.emplace(regex["match"].string(), regex["rewrite"].string());
  return r;
}

std::optional<HTTPRetry> read_retries(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  HTTPRetry r;
  r.attempts = f["attempts"].int32();
  r.per_try_timeout_ms = f["perTryTimeout"].duration_ms();
  r.retry_on = f["retryOn"].string();
  r.retry_remote_localities = f["retryRemoteLocalities"].optional_boolean();
  return r;
}

std::optional<Delegate> read_delegate(const Field& f) {
  if (!f.expect_map()) return std::nullopt;
  Delegate d;
  d.name = f["name"].string();
  d.namespace_ = f["namespace"].string();
  return d;
}

HTTPRoute read_http_route(const Field& f) {
  HTTPRoute r;
  r.source = f.source();
  if (!f.expect_map()) return r;
  r.name = f["name"].string();
  for (const Field& m : f["match"].items()) r.match.push_back(read_match(m));
  for (const Field& d : f["route"].items()) r.route.push_back(read_route_destination(d));
  r.redirect = read_redirect(f["redirect"]);
  r.direct_response = read_direct_response(f["directResponse"]);
  r.delegate = read_delegate(f["delegate"]);
  r.rewrite = read_rewrite(f["rewrite"]);
  r.timeout_ms = f["timeout"].duration_ms();
  r.retries = read_retries(f["retries"]);
  r.headers = read_headers(f["headers"]);
  r.has_fault = f["fault"].present();
  read_route_policies(f, r);
  return r;
}

L4MatchAttributes read_l4_match(const Field& f) {
  L4MatchAttributes m;
  m.source = f.source();
  if (!f.expect_map()) return m;
  m.destination_subnets = f["destinationSubnets"].strings();
  m.port = f["port"].uint32();
  m.source_labels = f["sourceLabels"].string_map();
  m.gateways = f["gateways"].strings();
  m.source_namespace = f["sourceNamespace"].string();
  m.sni_hosts = f["sniHosts"].strings();
  return m;
}

L4Route read_l4_route(const Field& f) {
  L4Route r;
  r.source = f.source();
  if (!f.expect_map()) return r;
  for (const Field& m : f["match"].items()) r.match.push_back(read_l4_match(m));
  for (const Field& d : f["route"].items()) {
    RouteDestination rd;
    if (d.expect_map()) {
      rd.has_destination = d["destination"].present();
      rd.destination = read_destination(d["destination"]);
      rd.weight_set = d["weight"].present();
      rd.weight = d["weight"].int32();
    }
    r.route.push_back(std::move(rd));
  }
  return r;
}

}  // namespace

std::optional<StringMatch> read_string_match(const Field& f) {
  // A null value (`x-user:`) reads like `{}`: presence.
  if (!f.present()) {
    if (f.node().IsDefined()) return StringMatch{};
    return std::nullopt;
  }
  if (!f.expect_map()) return std::nullopt;
  for (const auto& [key, value] : f.entries()) {
    if (key != "exact" && key != "prefix" && key != "regex") {
      // A typo here would otherwise silently turn the match into "present".
      value.warning("unknown field \"" + key + "\" (a string match has exact, prefix or regex)");
    }
  }
  std::optional<StringMatch> result;
  int kinds = 0;
  const std::pair<const char*, StringMatch::Kind> forms[] = {{"exact", StringMatch::Kind::Exact},
                                                             {"prefix", StringMatch::Kind::Prefix},
                                                             {"regex", StringMatch::Kind::Regex}};
  for (const auto& [key, kind] : forms) {
    const Field value = f[key];
    if (!value.present()) continue;
    ++kinds;
    result = StringMatch{kind, value.string()};
  }
  if (kinds > 1) {
    f.error("only one of exact, prefix or regex may be set");
    return std::nullopt;
  }
  if (!result) return StringMatch{};  // `{}` = presence
  return result;
}

void read_virtual_service(const Field& spec, VirtualService& out) {
  if (!spec.expect_map()) return;
  out.hosts = spec["hosts"].strings();
  out.gateways = spec["gateways"].strings();
  for (const Field& route : spec["http"].items()) out.http.push_back(read_http_route(route));
  out.has_tls = !spec["tls"].items().empty();
  out.has_tcp = !spec["tcp"].items().empty();
  out.export_to = spec["exportTo"].strings();
  for (const Field& route : spec["tls"].items()) out.tls.push_back(read_l4_route(route));
  for (const Field& route : spec["tcp"].items()) out.tcp.push_back(read_l4_route(route));
}

}  // namespace torii::config
