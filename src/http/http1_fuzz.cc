// Fuzzing entry point for the HTTP/1 parsers (see http1_parser.h). Usable
// from a libFuzzer target (LLVMFuzzerTestOneInput) and from the unit tests'
// random-input loop.
#include <cstdlib>

#include "http/http1_parser.h"

namespace torii::http {

namespace {

// Aborts on a broken invariant, so a fuzzer reports it as a crash.
void check(bool ok) {
  if (!ok) std::abort();
}

class FuzzRequestSink final : public RequestCallbacks {
 public:
  void on_request_head(RequestHead& head) override {
    check(!in_message_);
    in_message_ = true;
    check(!head.method.empty());
    body_bytes_ = 0;
    chunked_ = head.chunked;
    content_length_ = head.content_length;
  }
  void on_request_body(std::string_view data) override {
    check(in_message_);
    body_bytes_ += data.size();
    if (!chunked_) check(body_bytes_ <= content_length_);
  }
  void message_complete() {
    check(in_message_);
    if (!chunked_) check(body_bytes_ == content_length_);
    in_message_ = false;
  }

 private:
  bool in_message_ = false;
  bool chunked_ = false;
  uint64_t body_bytes_ = 0;
  uint64_t content_length_ = 0;
};

class FuzzResponseSink final : public ResponseCallbacks {
 public:
  void on_informational(ResponseHead& head) override { check(head.status >= 100 && head.status < 200); }
  void on_response_head(ResponseHead& head) override { check(head.status >= 200 && head.status <= 999); }
  void on_response_body(std::string_view) override {}
};

// Feeds `data` in pieces whose sizes come from the data itself, so the
// fuzzer also explores how messages are split across reads.
template <typename Parser, typename OnComplete>
size_t run(Parser& parser, const uint8_t* data, size_t size, OnComplete on_complete) {
  size_t messages = 0;
  size_t offset = 0;
  size_t step_seed = size > 0 ? data[0] : 1;
  while (offset < size) {
    size_t piece = 1 + (step_seed * 31 + offset) % 97;
    if (piece > size - offset) piece = size - offset;
    std::string_view view(reinterpret_cast<const char*>(data) + offset, piece);
    while (!view.empty()) {
      FeedResult r = parser.feed(view);
      check(r.consumed <= view.size());
      if (r.status == FeedResult::Status::Error) return messages;
      view.remove_prefix(r.consumed);
      if (r.status == FeedResult::Status::MessageComplete) {
        ++messages;
        on_complete();
        parser.resume();
      }
    }
    offset += piece;
  }
  return messages;
}

}  // namespace

size_t fuzz_http1_parsers(const uint8_t* data, size_t size) {
  FuzzRequestSink requests;
  RequestParser request_parser(requests, ParseLimits{});
  size_t n = run(request_parser, data, size, [&] { requests.message_complete(); });

  FuzzResponseSink responses;
  ResponseParser response_parser(responses, ParseLimits{});
  response_parser.expect_response_to(size > 1 && (data[1] & 1));
  run(response_parser, data, size, [] {});
  response_parser.finish();
  return n;
}

}  // namespace torii::http
