#include "http/http1_parser.h"

#include <array>

namespace torii::http {

namespace {
std::string_view trim_trailing_ows(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 §5.6.2 tchar, as a table: this runs for every header byte.
constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// Checks that `name` is a token and lower-cases it in place (the header map
// stores names lower-case), in one pass.
bool lower_token(std::string& name) {
  if (name.empty()) return false;
  for (char& c : name) {
    if (!kTchar[static_cast<unsigned char>(c)]) return false;
    c = ascii_lower(c);
  }
  return true;
}
}  // namespace

const llhttp_settings_t& Http1Parser::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t out;
    llhttp_settings_init(&out);
    out.on_message_begin = &Http1Parser::on_message_begin;
    out.on_url = &Http1Parser::on_url;
    out.on_header_field = &Http1Parser::on_header_field;
    out.on_header_value = &Http1Parser::on_header_value;
    out.on_header_value_complete = &Http1Parser::on_header_value_complete;
    out.on_headers_complete = &Http1Parser::on_headers_complete;
    out.on_body = &Http1Parser::on_body;
    out.on_message_complete = &Http1Parser::on_message_complete;
    return out;
  }();
  return s;
}

Http1Parser::Http1Parser(llhttp_type_t type, ParseLimits limits) : limits_(limits) {
  llhttp_init(&parser_, type, &settings());
  parser_.data = this;
}

FeedResult Http1Parser::feed(std::string_view data) {
  FeedResult result = execute(data);
  // A value cut off by the end of these bytes must not point into them.
  if (!value_piece_.empty()) {
    value_.assign(value_piece_);
    value_piece_ = {};
  }
  return result;
}

FeedResult Http1Parser::execute(std::string_view data) {
  if (error_ != ParseError::None) return {0, FeedResult::Status::Error};
  if (paused_) return {0, FeedResult::Status::MessageComplete};
  const char* begin = data.data();
  const char* p = begin;
  const char* end = begin + data.size();
  for (;;) {
    llhttp_errno_t err = llhttp_execute(&parser_, p, static_cast<size_t>(end - p));
    if (err == HPE_OK) return {data.size(), FeedResult::Status::NeedMore};
    const char* pos = llhttp_get_error_pos(&parser_);
    size_t consumed = pos != nullptr ? static_cast<size_t>(pos - begin) : data.size();
    if (err == HPE_PAUSED_UPGRADE) {
      if (stop_on_upgrade()) {
        // A 101 we accepted: what follows is the tunnelled protocol.
        message_done_ = false;
        paused_ = true;
        return {consumed, FeedResult::Status::MessageComplete};
      }
      // Requests: an Upgrade request is answered as HTTP until the upstream
      // grants the switch (the connection then stops parsing), CONNECT is
      // refused; so keep parsing HTTP.
      llhttp_resume_after_upgrade(&parser_);
      if (message_done_) {
        message_done_ = false;
        paused_ = true;
        return {consumed, FeedResult::Status::MessageComplete};
      }
      p = pos;
      continue;
    }
    if (err == HPE_PAUSED) {
      message_done_ = false;
      paused_ = true;
      return {consumed, FeedResult::Status::MessageComplete};
    }
    if (error_ == ParseError::None) {
      // llhttp's own check (a request whose last coding is not chunked)
      // gets the same answer as ours in on_headers_complete.
      error_ = err == HPE_INVALID_TRANSFER_ENCODING ? ParseError::UnsupportedTransferEncoding
                                                    : ParseError::Malformed;
    }
    return {consumed, FeedResult::Status::Error};
  }
}

void Http1Parser::resume() {
  paused_ = false;
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
}

std::string Http1Parser::error_reason() const {
  if (error_ == ParseError::HeadersTooLarge) return "headers too large";
  const char* reason = llhttp_get_error_reason(&parser_);
  return reason != nullptr ? reason : "malformed message";
}

bool Http1Parser::count_head_bytes(size_t len) {
  head_bytes_ += len;
  return head_bytes_ <= limits_.max_header_bytes;
}

int Http1Parser::fail(ParseError kind) {
  error_ = kind;
  return -1;
}

// Envoy's codec takes one transfer coding only, `chunked`, and compares the
// whole (joined) value: `gzip, chunked`, or a `gzip` line and a `chunked`
// line, are refused. llhttp alone would frame such a body as chunked, and
// the proxy, which re-frames what it forwards, would drop the gzip label.
bool Http1Parser::transfer_encoding_is_chunked() {
  return iequals(head().headers.get_joined("transfer-encoding"), "chunked");
}

int Http1Parser::on_message_begin(llhttp_t* p) {
  Http1Parser& s = self(p);
  s.in_message_ = true;
  s.message_done_ = false;
  s.head_bytes_ = 0;
  s.field_.clear();
  s.value_piece_ = {};
  s.value_.clear();
  s.begin_message();
  return 0;
}

int Http1Parser::on_url(llhttp_t* p, const char* at, size_t len) {
  Http1Parser& s = self(p);
  if (!s.count_head_bytes(len)) return s.fail(ParseError::HeadersTooLarge);
  return s.add_start_line_bytes(at, len) ? 0 : s.fail(ParseError::Malformed);
}

int Http1Parser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  Http1Parser& s = self(p);
  if (!s.count_head_bytes(len)) return s.fail(ParseError::HeadersTooLarge);
  s.field_.append(at, len);
  return 0;
}

int Http1Parser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  Http1Parser& s = self(p);
  if (!s.count_head_bytes(len)) return s.fail(ParseError::HeadersTooLarge);
  if (s.value_.empty() && s.value_piece_.empty()) {
    s.value_piece_ = std::string_view(at, len);
    return 0;
  }
  if (!s.value_piece_.empty()) {
    s.value_.assign(s.value_piece_);
    s.value_piece_ = {};
  }
  s.value_.append(at, len);
  return 0;
}

int Http1Parser::on_header_value_complete(llhttp_t* p) {
  Http1Parser& s = self(p);
  HeaderMap& headers = s.head().headers;
  if (headers.size() >= s.limits_.max_header_count) return s.fail(ParseError::HeadersTooLarge);
  // llhttp 8 lets some non-token bytes (e.g. spaces) into a field name; Envoy
  // answers such a request with 400, so the name is checked here.
  if (!lower_token(s.field_)) return s.fail(ParseError::Malformed);
  const std::string_view value = s.value_.empty() ? s.value_piece_ : std::string_view(s.value_);
  headers.add_lower(s.field_, trim_trailing_ows(value));
  s.field_.clear();
  s.value_piece_ = {};
  s.value_.clear();
  return 0;
}

int Http1Parser::on_headers_complete(llhttp_t* p) {
  Http1Parser& s = self(p);
  MessageHead& head = s.head();
  head.version_major = p->http_major;
  head.version_minor = p->http_minor;
  if (head.version_major != 1) return s.fail(ParseError::Malformed);
  if ((p->flags & F_TRANSFER_ENCODING) != 0 && !s.transfer_encoding_is_chunked()) {
    return s.fail(ParseError::UnsupportedTransferEncoding);
  }
  head.keep_alive = llhttp_should_keep_alive(p) != 0;
  head.chunked = (p->flags & F_CHUNKED) != 0;
  head.has_content_length = (p->flags & F_CONTENT_LENGTH) != 0;
  head.content_length = head.has_content_length ? p->content_length : 0;
  return s.head_complete();
}

int Http1Parser::on_body(llhttp_t* p, const char* at, size_t len) {
  self(p).body(std::string_view(at, len));
  return 0;
}

int Http1Parser::on_message_complete(llhttp_t* p) {
  Http1Parser& s = self(p);
  s.in_message_ = false;
  s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
  if (!s.pause_after_message()) return 0;
  s.message_done_ = true;
  return HPE_PAUSED;
}

// ---- RequestParser ----

RequestParser::RequestParser(RequestCallbacks& callbacks, ParseLimits limits)
    : Http1Parser(HTTP_REQUEST, limits), callbacks_(callbacks) {}

void RequestParser::begin_message() {
  head_.clear();
  head_.method.clear();
  head_.target.clear();
  head_.upgrade = false;
}

bool RequestParser::add_start_line_bytes(const char* at, size_t len) {
  head_.target.append(at, len);
  return true;
}

int RequestParser::head_complete() {
  // RFC 9110 9.3.6: a body on CONNECT has no defined meaning; Envoy answers 501.
  if (parser_.method == HTTP_CONNECT && (parser_.flags & F_TRANSFER_ENCODING) != 0) {
    return fail(ParseError::UnsupportedTransferEncoding);
  }
  head_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  head_.upgrade = parser_.upgrade != 0;
  callbacks_.on_request_head(head_);
  return 0;
}

// ---- ResponseParser ----

ResponseParser::ResponseParser(ResponseCallbacks& callbacks, ParseLimits limits)
    : Http1Parser(HTTP_RESPONSE, limits), callbacks_(callbacks) {}

void ResponseParser::begin_message() {
  head_.clear();
  head_.status = 0;
  informational_ = false;
  switched_ = false;
}

int ResponseParser::head_complete() {
  head_.status = parser_.status_code;
  // llhttp accepts any 3-digit-or-shorter number; HTTP status codes are 100-999.
  if (head_.status < 100 || head_.status > 999) return fail(ParseError::Malformed);
  if (head_.status < 200 || head_.status == 204) {
    // These never carry a body: like Envoy's codec, a framing header on one
    // is the upstream's protocol error, except `Content-Length: 0`, dropped.
    if ((parser_.flags & F_TRANSFER_ENCODING) != 0) return fail(ParseError::Malformed);
    if ((parser_.flags & F_CONTENT_LENGTH) != 0) {
      const std::string_view* length = head_.headers.get("content-length");
      if (length == nullptr || *length != "0") return fail(ParseError::Malformed);
      head_.headers.remove("content-length");
    }
  }
  if (head_.status == 101) {
    // Only a switch we asked for (websocket) may be granted.
    if (!accept_upgrade_) return fail(ParseError::Malformed);
    switched_ = true;
    callbacks_.on_response_head(head_);
    return 1;  // no body: the rest is the new protocol
  }
  if (head_.status >= 100 && head_.status < 200) {
    informational_ = true;
    callbacks_.on_informational(head_);
    return 1;  // no body; the final response follows
  }
  callbacks_.on_response_head(head_);
  // RFC 9112 6.3: these never carry a body, whatever Content-Length says
  // (a 304 typically repeats the representation's length).
  if (head_request_ || head_.status == 204 || head_.status == 304) return 1;
  return 0;
}

FeedResult ResponseParser::finish() {
  if (error_ != ParseError::None) return {0, FeedResult::Status::Error};
  if (!in_message()) return {0, FeedResult::Status::NeedMore};
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err == HPE_OK || err == HPE_PAUSED) {
    if (message_done_) {
      message_done_ = false;
      return {0, FeedResult::Status::MessageComplete};
    }
    return {0, FeedResult::Status::NeedMore};
  }
  error_ = ParseError::Malformed;
  return {0, FeedResult::Status::Error};
}

}  // namespace torii::http
