#include "http/request_target.h"

#include "http/header_map.h"  // iequals

namespace torii::http {

namespace {
void split_query(std::string_view path_and_query, RequestTarget& out) {
  out.path_and_query = path_and_query;
  size_t q = path_and_query.find('?');
  if (q == std::string_view::npos) {
    out.path = path_and_query;
    out.query = {};
  } else {
    out.path = path_and_query.substr(0, q);
    out.query = path_and_query.substr(q + 1);
  }
  // A fragment never belongs on the wire; drop it if a client sent one.
  size_t hash = out.query.find('#');
  if (hash != std::string_view::npos) out.query = out.query.substr(0, hash);
  hash = out.path.find('#');
  if (hash != std::string_view::npos) out.path = out.path.substr(0, hash);
}
}  // namespace

bool parse_request_target(std::string_view target, RequestTarget& out) {
  out = RequestTarget{};
  if (target.empty()) return false;
  if (target.front() == '/') {
    out.form = RequestTarget::Form::Origin;
    split_query(target, out);
    return true;
  }
  if (target == "*") {
    out.form = RequestTarget::Form::Asterisk;
    out.path = target;
    out.path_and_query = target;
    return true;
  }
  size_t scheme_end = target.find("://");
  if (scheme_end != std::string_view::npos && scheme_end > 0 &&
      target.substr(0, scheme_end).find_first_of("/?#") == std::string_view::npos) {
    out.form = RequestTarget::Form::Absolute;
    out.scheme = target.substr(0, scheme_end);
    // Envoy's codec (Utility::schemeIsValid): only http and https.
    if (!iequals(out.scheme, "http") && !iequals(out.scheme, "https")) return false;
    std::string_view rest = target.substr(scheme_end + 3);
    size_t path_start = rest.find_first_of("/?");
    out.authority = rest.substr(0, path_start);
    if (out.authority.empty()) return false;
    // userinfo ("user@host") is not allowed in HTTP(S) URIs sent to a proxy.
    if (out.authority.find('@') != std::string_view::npos) return false;
    if (path_start == std::string_view::npos) {
      out.path = "/";
      out.path_and_query = "/";
      return true;
    }
    std::string_view pq = rest.substr(path_start);
    if (pq.front() == '?') {
      // "http://h?x" -> path "/" query "x"; the wire form needs the slash, so
      // keep the view (the caller builds "/" + pq when path is empty).
      out.path = "/";
      out.query = pq.substr(1);
      out.path_and_query = pq;
      return true;
    }
    split_query(pq, out);
    return true;
  }
  // authority-form (CONNECT host:port)
  out.form = RequestTarget::Form::Authority;
  out.authority = target;
  return true;
}

}  // namespace torii::http
