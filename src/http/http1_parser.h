// Incremental HTTP/1.x parsers built on llhttp (Node.js's parser).
//
// The parser reports the head and body bytes through a small callback
// interface and stops after every complete message (feed() returns
// MessageComplete with the bytes consumed up to the end of that message), so
// the connection decides when the next pipelined message may start: answers
// stay in order and a slow upstream bounds how much is read ahead.
//
// Callbacks run inside feed(); they may record state, write to buffers and
// start work, but must not destroy the parser or call feed() again.
//
// Limits: head bytes (request-target + header names + values) above
// max_header_bytes, or more than max_header_count fields, fail with
// HeadersTooLarge (-> 431). A Transfer-Encoding other than exactly
// `chunked`, or any on CONNECT, fails with UnsupportedTransferEncoding (-> 501
// for a request, as Envoy's codec; an upstream protocol error for a
// response). Every other syntax problem is Malformed (-> 400).
//
// Owned by one connection; loop thread only.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message_head.h"
#include "net/object_pool.h"

namespace torii::http {

enum class ParseError { None, HeadersTooLarge, Malformed, UnsupportedTransferEncoding };

struct ParseLimits {
  uint32_t max_header_bytes = 60 * 1024;
  uint32_t max_header_count = 100;
};

struct FeedResult {
  enum class Status { NeedMore, MessageComplete, Error };
  size_t consumed = 0;
  Status status = Status::NeedMore;
};

class RequestCallbacks {
 public:
  // The head is owned by the parser and stays valid (and untouched) until
  // resume(); the callee may move pieces out of it.
  virtual void on_request_head(RequestHead& head) = 0;
  virtual void on_request_body(std::string_view data) = 0;
  virtual ~RequestCallbacks() = default;
};

class ResponseCallbacks {
 public:
  // A 1xx response other than 101 (100 Continue, 103 Early Hints).
  virtual void on_informational(ResponseHead& head) = 0;
  virtual void on_response_head(ResponseHead& head) = 0;
  virtual void on_response_body(std::string_view data) = 0;
  virtual ~ResponseCallbacks() = default;
};

// Shared llhttp glue: header accumulation, limits, pausing.
class Http1Parser {
 public:
  Http1Parser(const Http1Parser&) = delete;
  Http1Parser& operator=(const Http1Parser&) = delete;

  FeedResult feed(std::string_view data);
  // Allows the next message after MessageComplete.
  void resume();
  ParseError error() const { return error_; }
  // Human-readable cause of the last error (for logs).
  std::string error_reason() const;
  // True while a message has started (first byte seen) and is not complete.
  bool in_message() const { return in_message_; }
  // Whether the connection may carry another message after the last
  // complete one (version, Connection header, framing).
  bool keep_alive() const { return keep_alive_; }

 protected:
  Http1Parser(llhttp_type_t type, ParseLimits limits);
  ~Http1Parser() = default;

  virtual MessageHead& head() = 0;
  virtual void begin_message() = 0;
  virtual bool add_start_line_bytes(const char* at, size_t len) = 0;
  // Returns llhttp's on_headers_complete code (0 = body as framed, 1 = no body).
  virtual int head_complete() = 0;
  virtual void body(std::string_view data) = 0;
  // false => keep parsing the next message without pausing (1xx responses).
  virtual bool pause_after_message() { return true; }
  // true => after an upgrade the rest of the bytes are another protocol:
  // feed() stops there instead of parsing on as HTTP.
  virtual bool stop_on_upgrade() const { return false; }

  llhttp_t parser_;
  ParseError error_ = ParseError::None;
  bool message_done_ = false;  // completed, not yet reported by feed()/finish()

  bool count_head_bytes(size_t len);
  int fail(ParseError kind);
  [[gnu::noinline]] bool transfer_encoding_is_chunked();  // cold: only with a Transfer-Encoding field

 private:
  static const llhttp_settings_t& settings();
  static Http1Parser& self(llhttp_t* p) { return *static_cast<Http1Parser*>(p->data); }
  static int on_message_begin(llhttp_t* p);
  static int on_url(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);

  FeedResult execute(std::string_view data);

  ParseLimits limits_;
  std::string field_;  // names fit the string's inline buffer: no allocation
  // A header value that arrived in one piece is a view into the bytes being
  // fed (a value longer than 15 bytes, such as `date`, would otherwise cost
  // an allocation per parser, and a response parser lives for one request);
  // value_ holds it once it spans two pieces or outlives a feed().
  std::string_view value_piece_;
  std::string value_;
  size_t head_bytes_ = 0;
  bool in_message_ = false;
  bool paused_ = false;
  bool keep_alive_ = true;
};

// Server side: parses requests from a downstream connection.
class RequestParser final : public Http1Parser {
 public:
  // A downstream connection holds one only while it reads or answers a
  // request (issue 17: an idle keep-alive connection holds none), so one is
  // made per request: from a per-thread free list, not malloc.
  TORII_POOLED_NEW(RequestParser)

  RequestParser(RequestCallbacks& callbacks, ParseLimits limits);

 private:
  MessageHead& head() override { return head_; }
  void begin_message() override;
  bool add_start_line_bytes(const char* at, size_t len) override;
  int head_complete() override;
  void body(std::string_view data) override { callbacks_.on_request_body(data); }

  RequestCallbacks& callbacks_;
  RequestHead head_;
};

// Client side: parses responses from an upstream connection.
class ResponseParser final : public Http1Parser {
 public:
  ResponseParser(ResponseCallbacks& callbacks, ParseLimits limits);

  // Call before each response: a response to HEAD has no body whatever its
  // headers say.
  void expect_response_to(bool head_request) { head_request_ = head_request; }
  // The request asked for a protocol switch (websocket): a 101 response is
  // then reported through on_response_head and ends HTTP on this
  // connection; feed() returns MessageComplete with the bytes after the
  // head left unconsumed, and switched_protocols() is true. Without this a
  // 101 is a protocol error.
  void accept_switching_protocols(bool accept) { accept_upgrade_ = accept; }
  bool switched_protocols() const { return switched_; }
  // The upstream closed its side: completes a close-delimited body, or
  // reports an Error if the response was cut short.
  FeedResult finish();

 private:
  MessageHead& head() override { return head_; }
  void begin_message() override;
  bool add_start_line_bytes(const char*, size_t) override { return true; }
  int head_complete() override;
  void body(std::string_view data) override { callbacks_.on_response_body(data); }
  bool pause_after_message() override { return !informational_; }

  ResponseCallbacks& callbacks_;
  ResponseHead head_;
  bool stop_on_upgrade() const override { return switched_; }

  bool head_request_ = false;
  bool informational_ = false;
  bool accept_upgrade_ = false;
  bool switched_ = false;
};

// Fuzzing entry point: feeds arbitrary bytes through a RequestParser (and a
// ResponseParser) in pieces, resuming after each message, with callbacks
// that check invariants. Returns the number of complete requests parsed.
size_t fuzz_http1_parsers(const uint8_t* data, size_t size);

}  // namespace torii::http
