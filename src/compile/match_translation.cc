#include "compile/match_translation.h"

#include <algorithm>
#include <memory>

#include "compile/host_name.h"

namespace torii::compile {

namespace {

using MatcherKind = router::StringMatcher::Kind;

MatcherKind to_kind(config::StringMatch::Kind kind) {
  switch (kind) {
    case config::StringMatch::Kind::Exact:
      return MatcherKind::Exact;
    case config::StringMatch::Kind::Prefix:
      return MatcherKind::Prefix;
    case config::StringMatch::Kind::Regex:
      return MatcherKind::Regex;
    case config::StringMatch::Kind::Presence:
      return MatcherKind::Presence;
  }
  return MatcherKind::Presence;
}

// istio pkg/jwt ToRoutingClaim: "@request.auth.claims" (any case) then
// ".a.b" (dots separate nested claims) or "[a][b.c]" (brackets keep dots).
// nullopt for any other header name.
std::optional<std::vector<std::string>> jwt_claim_path(std::string_view name) {
  constexpr std::string_view kPrefix = "@request.auth.claims";
  if (name.size() <= kPrefix.size() ||
      host::to_lower(std::string(name.substr(0, kPrefix.size()))) != kPrefix) {
    return std::nullopt;
  }
  std::string_view rest = name.substr(kPrefix.size());
  std::vector<std::string> path;
  if (rest.front() == '.') {
    rest.remove_prefix(1);
    while (true) {
      const size_t dot = rest.find('.');
      path.emplace_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
  } else {
    while (!rest.empty() && rest.front() == '[') {
      const size_t close = rest.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      path.emplace_back(rest.substr(1, close - 1));
      rest.remove_prefix(close + 1);
    }
    if (!rest.empty()) return std::nullopt;
  }
  for (const std::string& key : path) {
    if (key.empty()) return std::nullopt;
  }
  return path;
}

// Header names are compared lower-case; a JWT claim key keeps its case
// (claim names are case-sensitive).
std::string header_key(const std::string& name) { return jwt_claim_path(name) ? name : host::to_lower(name); }

class Translator {
 public:
  Translator(const config::VirtualService& vs, const std::string& field, DiagnosticSink& diagnostics,
             const config::SourceRef* source)
      : vs_(vs), field_(field), diagnostics_(diagnostics), source_(source) {}

  bool ok() const { return ok_; }

  // `sub_field` is relative to the match ("uri", "headers.x-user").
  router::StringMatcher matcher(const config::StringMatch& in, const std::string& sub_field) {
    router::StringMatcher out;
    out.kind = to_kind(in.kind);
    out.value = in.value;
    if (out.kind == MatcherKind::Regex) {
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_shared<re2::RE2>(in.value, options);
      if (!regex->ok()) {
        diagnostics_.error(kVirtualServiceKind, vs_.meta, field_ + "." + sub_field + ".regex",
                           "invalid RE2 regex \"" + in.value + "\": " + regex->error() + "; route dropped",
                           source_);
        ok_ = false;
      } else {
        out.regex = std::move(regex);
      }
    }
    return out;
  }

  router::HeaderMatcher header(std::string name, const config::StringMatch& in, const std::string& sub_field,
                               bool invert) {
    router::HeaderMatcher out;
    out.name = std::move(name);
    out.source = router::header_source(out.name);  // ":path" & co. read the RequestView
    if (std::optional<std::vector<std::string>> claim = jwt_claim_path(out.name)) {
      out.source = router::HeaderSource::JwtClaim;
      out.claim_path = std::move(*claim);
    }
    out.value = matcher(in, sub_field);
    out.invert = invert;
    // Envoy treat_missing_header_as_empty for withoutHeaders value forms, so a
    // request without the header satisfies `withoutHeaders: {x: {exact: v}}`.
    // The presence form `{x: {}}` keeps its plain meaning: "x is absent".
    out.treat_missing_as_empty = invert && out.value.kind != MatcherKind::Presence;
    return out;
  }

 private:
  const config::VirtualService& vs_;
  const std::string& field_;
  DiagnosticSink& diagnostics_;
  const config::SourceRef* source_;
  bool ok_ = true;
};

void sort_by_name(std::vector<router::HeaderMatcher>& headers, size_t from) {
  std::stable_sort(
      headers.begin() + static_cast<std::ptrdiff_t>(from), headers.end(),
      [](const router::HeaderMatcher& a, const router::HeaderMatcher& b) { return a.name < b.name; });
}

void warn_pseudo_header_keys(const config::HTTPMatchRequest& match, const config::VirtualService& vs,
                             const std::string& field, DiagnosticSink& diagnostics) {
  for (const auto& [name, value] : match.headers) {
    std::string lower = host::to_lower(name);
    if (lower == "uri" || lower == "scheme" || lower == "method" || lower == "authority") {
      diagnostics.warning(
          kVirtualServiceKind, vs.meta, field + ".headers." + name,
          "the proto says header key \"" + name +
              "\" is ignored, but istiod matches it as a literal request header; so does Torii. "
              "Use the match's own `" +
              lower + "` field instead",
          &match.source);
    }
  }
}

}  // namespace

std::optional<router::RouteMatch> translate_match(const config::HTTPMatchRequest* match,
                                                  const config::VirtualService& vs, const std::string& field,
                                                  DiagnosticSink& diagnostics) {
  router::RouteMatch out;
  // No uri => prefix "/". (Built whole rather than by assigning "/" to
  // value: GCC 12 with -fsanitize reports a bogus -Wrestrict there, PR105329.)
  out.path = router::StringMatcher{MatcherKind::Prefix, std::string(1, '/'), nullptr, false};
  if (match == nullptr) return out;

  Translator t(vs, field, diagnostics, &match->source);
  if (match->uri && match->uri->kind != config::StringMatch::Kind::Presence) {
    out.path = t.matcher(*match->uri, "uri");
    // ignoreUriCase only affects exact/prefix; a regex needs `(?i)` (B.17).
    out.path.ignore_case = match->ignore_uri_case && out.path.kind != MatcherKind::Regex;
  }

  // Header matchers sorted by (lower-case) name, then the pseudo-headers,
  // then withoutHeaders: the order istiod emits, so dumps are stable; all
  // must hold anyway.
  for (const auto& [name, value] : match->headers) {
    out.headers.push_back(t.header(header_key(name), value, "headers." + name, false));
  }
  sort_by_name(out.headers, 0);
  if (match->method) out.headers.push_back(t.header(":method", *match->method, "method", false));
  if (match->authority) out.headers.push_back(t.header(":authority", *match->authority, "authority", false));
  if (match->scheme) out.headers.push_back(t.header(":scheme", *match->scheme, "scheme", false));
  const size_t without_start = out.headers.size();
  for (const auto& [name, value] : match->without_headers) {
    out.headers.push_back(t.header(header_key(name), value, "withoutHeaders." + name, true));
  }
  sort_by_name(out.headers, without_start);
  for (const auto& [name, value] : match->query_params) {
    router::QueryParamMatcher param;
    param.name = name;
    param.value = t.matcher(value, "queryParams." + name);
    out.query_params.push_back(std::move(param));
  }
  warn_pseudo_header_keys(*match, vs, field, diagnostics);
  if (!t.ok()) return std::nullopt;
  return out;
}

}  // namespace torii::compile
