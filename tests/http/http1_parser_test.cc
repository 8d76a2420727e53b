#include "http/http1_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace torii::http {
namespace {

struct Request {
  std::string method, target;
  HeaderMap headers;
  std::string body;
  bool keep_alive = false, chunked = false, upgrade = false;
  int minor = 1;
};

struct RequestSink : RequestCallbacks {
  std::vector<Request> done;
  Request current;
  void on_request_head(RequestHead& h) override {
    current = Request{};
    current.method = h.method;
    current.target = h.target;
    current.headers = h.headers;
    current.keep_alive = h.keep_alive;
    current.chunked = h.chunked;
    current.upgrade = h.upgrade;
    current.minor = h.version_minor;
  }
  void on_request_body(std::string_view d) override { current.body.append(d); }
};

// Feeds `wire` in pieces of `step` bytes (0 = all at once), resuming after
// each message. Returns the final status.
FeedResult::Status feed_all(RequestParser& p, RequestSink& sink, const std::string& wire, size_t step) {
  size_t off = 0;
  FeedResult::Status last = FeedResult::Status::NeedMore;
  while (off < wire.size()) {
    size_t n = step == 0 ? wire.size() - off : std::min(step, wire.size() - off);
    std::string_view piece(wire.data() + off, n);
    while (!piece.empty()) {
      FeedResult r = p.feed(piece);
      last = r.status;
      if (r.status == FeedResult::Status::Error) return last;
      piece.remove_prefix(r.consumed);
      if (r.status == FeedResult::Status::MessageComplete) {
        sink.done.push_back(sink.current);
        p.resume();
      }
    }
    off += n;
  }
  return last;
}

const std::string kPipeline =
    "GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n"
    "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\nhello world"
    "PUT /chunked HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    "GET /last HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";

void expect_pipeline(const RequestSink& sink) {
  ASSERT_EQ(sink.done.size(), 4u);
  EXPECT_EQ(sink.done[0].method, "GET");
  EXPECT_EQ(sink.done[0].target, "/a?x=1");
  EXPECT_EQ(*sink.done[0].headers.get("host"), "example.com");
  EXPECT_EQ(sink.done[0].headers.get_joined("x-multi"), "1,2");
  EXPECT_TRUE(sink.done[0].keep_alive);
  EXPECT_EQ(sink.done[1].method, "POST");
  EXPECT_EQ(sink.done[1].body, "hello world");
  EXPECT_FALSE(sink.done[1].chunked);
  EXPECT_EQ(sink.done[2].body, "hello world");
  EXPECT_TRUE(sink.done[2].chunked);
  EXPECT_EQ(sink.done[3].target, "/last");
  EXPECT_FALSE(sink.done[3].keep_alive);
}

TEST(RequestParserTest, PipelinedMessagesAllAtOnce) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{});
  feed_all(p, sink, kPipeline, 0);
  expect_pipeline(sink);
}

TEST(RequestParserTest, SplitAtEveryByteBoundary) {
  for (size_t split = 1; split < kPipeline.size(); ++split) {
    RequestSink sink;
    RequestParser p(sink, ParseLimits{});
    // First piece `split` bytes, the rest in one piece.
    std::string_view all(kPipeline);
    for (std::string_view piece : {all.substr(0, split), all.substr(split)}) {
      while (!piece.empty()) {
        FeedResult r = p.feed(piece);
        ASSERT_NE(r.status, FeedResult::Status::Error) << "split " << split;
        piece.remove_prefix(r.consumed);
        if (r.status == FeedResult::Status::MessageComplete) {
          sink.done.push_back(sink.current);
          p.resume();
        }
      }
    }
    expect_pipeline(sink);
    if (::testing::Test::HasFailure()) FAIL() << "split at " << split;
  }
}

// Each piece comes from a scratch buffer that is overwritten once fed, as a
// connection's read buffer is reused: a header value (longer than a
// string's inline 15 bytes) cut by a read boundary must have been copied.
TEST(RequestParserTest, ValuesCutByAReadSurviveTheBufferBeingReused) {
  const std::string wire =
      "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: a-long-user-agent-value/1.2.3\r\n"
      "X-Long: 0123456789abcdefghijklmnopqrstuvwxyz\r\n\r\n";
  for (size_t split = 1; split < wire.size(); ++split) {
    RequestSink sink;
    RequestParser p(sink, ParseLimits{});
    std::string scratch;
    for (std::string_view piece :
         {std::string_view(wire).substr(0, split), std::string_view(wire).substr(split)}) {
      scratch.assign(piece);
      FeedResult r = p.feed(scratch);
      ASSERT_NE(r.status, FeedResult::Status::Error) << "split " << split;
      ASSERT_EQ(r.consumed, scratch.size()) << "split " << split;
      scratch.assign(scratch.size(), 'X');
    }
    ASSERT_EQ(sink.current.headers.size(), 3u) << "split " << split;
    EXPECT_EQ(*sink.current.headers.get("user-agent"), "a-long-user-agent-value/1.2.3") << "split " << split;
    EXPECT_EQ(*sink.current.headers.get("x-long"), "0123456789abcdefghijklmnopqrstuvwxyz")
        << "split " << split;
  }
}

TEST(RequestParserTest, OneByteAtATime) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{});
  feed_all(p, sink, kPipeline, 1);
  expect_pipeline(sink);
}

TEST(RequestParserTest, StopsAfterEachMessageUntilResumed) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{});
  std::string two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  FeedResult r = p.feed(two);
  EXPECT_EQ(r.status, FeedResult::Status::MessageComplete);
  EXPECT_EQ(r.consumed, two.size() / 2);
  EXPECT_EQ(sink.current.target, "/1");
  // Still paused: feeding again consumes nothing.
  EXPECT_EQ(p.feed(std::string_view(two).substr(r.consumed)).consumed, 0u);
  p.resume();
  r = p.feed(std::string_view(two).substr(two.size() / 2));
  EXPECT_EQ(r.status, FeedResult::Status::MessageComplete);
  EXPECT_EQ(sink.current.target, "/2");
}

TEST(RequestParserTest, Http10KeepAliveOnlyWhenAsked) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{});
  feed_all(p, sink, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n", 0);
  ASSERT_EQ(sink.done.size(), 2u);
  EXPECT_EQ(sink.done[0].minor, 0);
  EXPECT_TRUE(sink.done[0].keep_alive);
  EXPECT_FALSE(sink.done[1].keep_alive);
}

TEST(RequestParserTest, NoMessageAfterANonKeepAliveRequest) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{});
  EXPECT_NE(feed_all(p, sink, "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n", 0),
            FeedResult::Status::MessageComplete);
  EXPECT_EQ(sink.done.size(), 1u);
}

TEST(RequestParserTest, UpgradeRequestIsParsedAsPlainRequest) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{});
  feed_all(p, sink,
           "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
           "GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
           0);
  ASSERT_EQ(sink.done.size(), 2u);
  EXPECT_TRUE(sink.done[0].upgrade);
  EXPECT_EQ(sink.done[1].target, "/next");
}

TEST(RequestParserTest, TooManyHeadersIsHeadersTooLarge) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{60 * 1024, 100});
  std::string wire = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) wire += "h" + std::to_string(i) + ": v\r\n";
  wire += "\r\n";
  EXPECT_EQ(feed_all(p, sink, wire, 0), FeedResult::Status::Error);
  EXPECT_EQ(p.error(), ParseError::HeadersTooLarge);
}

TEST(RequestParserTest, HundredHeadersIsFine) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{60 * 1024, 100});
  std::string wire = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) wire += "h" + std::to_string(i) + ": v\r\n";
  wire += "\r\n";
  EXPECT_EQ(feed_all(p, sink, wire, 0), FeedResult::Status::MessageComplete);
}

TEST(RequestParserTest, HugeHeaderIsHeadersTooLargeEvenWhenSplit) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{60 * 1024, 100});
  std::string wire = "GET / HTTP/1.1\r\nX-Big: " + std::string(61 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(feed_all(p, sink, wire, 1000), FeedResult::Status::Error);
  EXPECT_EQ(p.error(), ParseError::HeadersTooLarge);
}

void expect_request_error(const char* wire, ParseError kind) {
  RequestSink sink;
  RequestParser p(sink, ParseLimits{});
  EXPECT_EQ(feed_all(p, sink, wire, 0), FeedResult::Status::Error) << wire;
  EXPECT_EQ(p.error(), kind) << wire;
  EXPECT_FALSE(p.error_reason().empty()) << wire;
  EXPECT_TRUE(sink.done.empty()) << wire;
}

TEST(RequestParserTest, MalformedInputs) {
  const char* cases[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\nHost a\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nBad\x01Name: x\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
      "GET / HTTP/1.1\r\nBad\"Name: x\r\n\r\n",
  };
  for (const char* c : cases) expect_request_error(c, ParseError::Malformed);
}

TEST(RequestParserTest, TransferEncodingOtherThanChunkedIsUnsupported) {
  // Envoy answers 501 for any transfer coding but exactly `chunked`: a gzip
  // label would otherwise be lost when the proxy re-frames the body.
  const char* cases[] = {
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
      "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  };
  for (const char* c : cases) expect_request_error(c, ParseError::UnsupportedTransferEncoding);
  RequestSink sink;  // the case-insensitive `chunked` stays fine
  RequestParser p(sink, ParseLimits{});
  EXPECT_EQ(
      feed_all(p, sink,
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", 0),
      FeedResult::Status::MessageComplete);
  ASSERT_EQ(sink.done.size(), 1u);
  EXPECT_EQ(sink.done[0].body, "hi");
}

// ---- responses ----

struct ResponseSink : ResponseCallbacks {
  std::vector<int> informational;
  int status = 0;
  HeaderMap headers;
  std::string body;
  void on_informational(ResponseHead& h) override { informational.push_back(h.status); }
  void on_response_head(ResponseHead& h) override {
    status = h.status;
    headers = h.headers;
  }
  void on_response_body(std::string_view d) override { body.append(d); }
};

FeedResult::Status feed_response(ResponseParser& p, const std::string& wire, size_t step) {
  size_t off = 0;
  FeedResult::Status last = FeedResult::Status::NeedMore;
  while (off < wire.size()) {
    size_t n = step == 0 ? wire.size() - off : std::min(step, wire.size() - off);
    FeedResult r = p.feed(std::string_view(wire.data() + off, n));
    last = r.status;
    if (r.status != FeedResult::Status::NeedMore) return last;
    off += n;
  }
  return last;
}

TEST(ResponseParserTest, ContentLengthBodySplitEverywhere) {
  std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: up\r\n\r\nhello";
  for (size_t step = 1; step <= wire.size(); ++step) {
    ResponseSink sink;
    ResponseParser p(sink, ParseLimits{});
    EXPECT_EQ(feed_response(p, wire, step), FeedResult::Status::MessageComplete) << step;
    EXPECT_EQ(sink.status, 200);
    EXPECT_EQ(sink.body, "hello");
    EXPECT_TRUE(p.keep_alive());
  }
}

TEST(ResponseParserTest, HeadResponseHasNoBody) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  p.expect_response_to(true);
  EXPECT_EQ(feed_response(p, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 0),
            FeedResult::Status::MessageComplete);
  EXPECT_TRUE(sink.body.empty());
  EXPECT_TRUE(p.keep_alive());
}

TEST(ResponseParserTest, NoBodyFor204And304EvenWithContentLength) {
  for (const char* wire :
       {"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"}) {
    ResponseSink sink;
    ResponseParser p(sink, ParseLimits{});
    EXPECT_EQ(feed_response(p, wire, 0), FeedResult::Status::MessageComplete) << wire;
    EXPECT_TRUE(sink.body.empty());
  }
}

TEST(ResponseParserTest, FramingHeadersOn204AreAProtocolErrorButContentLengthZeroIsDropped) {
  // Envoy's client codec: transfer-encoding, or a non-zero content-length,
  // on a 1xx or 204 is the upstream's protocol error (-> 502).
  for (const char* wire : {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
                           "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                           "HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\n"}) {
    ResponseSink sink;
    ResponseParser p(sink, ParseLimits{});
    EXPECT_EQ(feed_response(p, wire, 0), FeedResult::Status::Error) << wire;
    EXPECT_EQ(sink.status, 0) << wire;
  }
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(feed_response(p, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nX-A: 1\r\n\r\n", 0),
            FeedResult::Status::MessageComplete);
  EXPECT_EQ(sink.status, 204);
  EXPECT_FALSE(sink.headers.has("content-length"));
  EXPECT_TRUE(sink.headers.has("x-a"));
}

TEST(ResponseParserTest, TransferEncodingOtherThanChunkedIsAnError) {
  // Read as close-delimited (or de-chunked) and re-framed, the client would
  // get coded bytes without their label; Envoy fails the response (502).
  for (const char* wire : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nxyz"}) {
    ResponseSink sink;
    ResponseParser p(sink, ParseLimits{});
    EXPECT_EQ(feed_response(p, wire, 0), FeedResult::Status::Error) << wire;
    EXPECT_EQ(p.error(), ParseError::UnsupportedTransferEncoding) << wire;
  }
}

TEST(ResponseParserTest, InformationalThenFinal) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 "
      "Created\r\nContent-Length: 2\r\n\r\nok";
  EXPECT_EQ(feed_response(p, wire, 0), FeedResult::Status::MessageComplete);
  EXPECT_EQ(sink.informational, (std::vector<int>{100, 103}));
  EXPECT_EQ(sink.status, 201);
  EXPECT_EQ(sink.body, "ok");
}

TEST(ResponseParserTest, SwitchingProtocolsIsAnError) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(
      feed_response(
          p, "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", 0),
      FeedResult::Status::Error);
}

TEST(ResponseParserTest, AcceptedSwitchingProtocolsStopsAtTheHead) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  p.accept_switching_protocols(true);
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
  const std::string wire = head + "\x81\x02hi";
  FeedResult r = p.feed(wire);
  EXPECT_EQ(r.status, FeedResult::Status::MessageComplete);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_TRUE(p.switched_protocols());
  EXPECT_EQ(sink.status, 101);
  EXPECT_EQ(*sink.headers.get("upgrade"), "websocket");
  EXPECT_EQ(sink.body, "");
}

TEST(ResponseParserTest, AcceptedUpgradeStillParsesOrdinaryResponses) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  p.accept_switching_protocols(true);
  EXPECT_EQ(feed_response(p, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno", 1),
            FeedResult::Status::MessageComplete);
  EXPECT_FALSE(p.switched_protocols());
  EXPECT_EQ(sink.status, 404);
  EXPECT_EQ(sink.body, "no");
}

TEST(ResponseParserTest, ChunkedBody) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(
      feed_response(
          p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 3),
      FeedResult::Status::MessageComplete);
  EXPECT_EQ(sink.body, "abcde");
}

TEST(ResponseParserTest, CloseDelimitedBodyCompletesOnFinish) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(feed_response(p, "HTTP/1.1 200 OK\r\n\r\npart1part2", 0), FeedResult::Status::NeedMore);
  EXPECT_EQ(p.finish().status, FeedResult::Status::MessageComplete);
  EXPECT_EQ(sink.body, "part1part2");
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParserTest, TruncatedBodyIsAnErrorOnFinish) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(feed_response(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0),
            FeedResult::Status::NeedMore);
  EXPECT_EQ(p.finish().status, FeedResult::Status::Error);
}

TEST(ResponseParserTest, FinishWithoutAnyByteIsNeedMore) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(p.finish().status, FeedResult::Status::NeedMore);
  EXPECT_FALSE(p.in_message());
}

TEST(ResponseParserTest, ConnectionCloseIsNotKeepAlive) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(feed_response(p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0),
            FeedResult::Status::MessageComplete);
  EXPECT_FALSE(p.keep_alive());
}

// Found by the fuzz loop: llhttp accepts "HTTP/1.1 24 ...".
TEST(ResponseParserTest, StatusBelow100IsMalformed) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(feed_response(p, "HTTP/1.1 24 No Content\r\n\r\n", 0), FeedResult::Status::Error);
  EXPECT_EQ(p.error(), ParseError::Malformed);
}

TEST(ResponseParserTest, GarbageIsMalformed) {
  ResponseSink sink;
  ResponseParser p(sink, ParseLimits{});
  EXPECT_EQ(feed_response(p, "SSH-2.0-OpenSSH\r\n", 0), FeedResult::Status::Error);
  EXPECT_EQ(p.error(), ParseError::Malformed);
}

}  // namespace
}  // namespace torii::http
