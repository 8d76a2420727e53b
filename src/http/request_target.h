// Splits an HTTP/1 request-target (RFC 9112 3.2) into the parts routing needs.
#pragma once

#include <string_view>

namespace torii::http {

struct RequestTarget {
  enum class Form { Origin, Absolute, Asterisk, Authority };
  Form form = Form::Origin;
  std::string_view scheme;     // absolute-form only ("http", "https")
  std::string_view authority;  // absolute-form and authority-form only
  std::string_view path;       // without the query; "/" for an absolute-form with no path
  std::string_view query;      // after '?', without it
  // path + ('?' query): what goes on the upstream request line. For the
  // absolute-form "http://h?q" it starts with '?': prefix "/" on the wire.
  std::string_view path_and_query;
};

// Views point into `target`. false => not a valid request-target (400),
// including an absolute-form whose scheme is not http or https.
bool parse_request_target(std::string_view target, RequestTarget& out);

// RFC 9112 3.2 / RFC 3986 3.2.2: a Host value (or an absolute-form target's
// authority) is `uri-host [":" port]` -- an IP-literal in brackets or a
// reg-name of unreserved, pct-encoded and sub-delims characters, never
// empty, no userinfo -- with a port of at most 65535 when one is given.
// A server must answer 400 to anything else.
bool valid_authority(std::string_view authority);

}  // namespace torii::http
