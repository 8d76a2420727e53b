// ClientHello SNI peeking (net/client_hello.h) on real ClientHellos made by
// OpenSSL: complete, truncated at every length, without SNI, fragmented
// over several TLS records, oversized, and not TLS at all.
#include "net/client_hello.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <string>

namespace torii::net {
namespace {

using Status = ClientHelloInfo::Status;

// The first flight of an OpenSSL client for `sni` ("" sends no SNI).
std::string real_client_hello(const std::string& sni) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
  SSL_connect(ssl);  // wants to read: the ClientHello is in wbio
  char* data = nullptr;
  long n = BIO_get_mem_data(wbio, &data);
  std::string out(data, static_cast<size_t>(n));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

// Re-frames the single handshake record of `hello` into records of at most
// `piece` payload bytes each (a legal TLS fragmentation).
std::string fragment(const std::string& hello, size_t piece) {
  const std::string header = hello.substr(0, 3);
  const std::string payload = hello.substr(5);
  std::string out;
  for (size_t i = 0; i < payload.size(); i += piece) {
    const std::string part = payload.substr(i, piece);
    out += header;
    out += static_cast<char>(part.size() >> 8);
    out += static_cast<char>(part.size() & 0xff);
    out += part;
  }
  return out;
}

TEST(ClientHello, ReadsTheServerName) {
  const std::string hello = real_client_hello("a.example.test");
  const ClientHelloInfo info = parse_client_hello(hello);
  EXPECT_EQ(info.status, Status::kDone);
  EXPECT_EQ(info.server_name, "a.example.test");
}

TEST(ClientHello, ServerNameIsLowerCased) {
  EXPECT_EQ(parse_client_hello(real_client_hello("API.Example.TEST")).server_name, "api.example.test");
}

TEST(ClientHello, EveryTruncationNeedsMore) {
  const std::string hello = real_client_hello("a.example.test");
  for (size_t n = 0; n < hello.size(); ++n) {
    const ClientHelloInfo info = parse_client_hello(std::string_view(hello).substr(0, n));
    ASSERT_EQ(info.status, Status::kNeedMore) << "at " << n << " of " << hello.size();
  }
}

TEST(ClientHello, WithoutSniIsDoneWithNoName) {
  const ClientHelloInfo info = parse_client_hello(real_client_hello(""));
  EXPECT_EQ(info.status, Status::kDone);
  EXPECT_EQ(info.server_name, "");
}

TEST(ClientHello, FragmentedOverRecordsIsReassembled) {
  const std::string hello = real_client_hello("fragmented.example.test");
  for (size_t piece : {1u, 7u, 100u}) {
    const std::string split = fragment(hello, piece);
    const ClientHelloInfo info = parse_client_hello(split);
    EXPECT_EQ(info.status, Status::kDone) << piece;
    EXPECT_EQ(info.server_name, "fragmented.example.test") << piece;
    // And a prefix of the fragmented form still needs more.
    EXPECT_EQ(parse_client_hello(std::string_view(split).substr(0, split.size() - 1)).status,
              Status::kNeedMore);
  }
}

TEST(ClientHello, BytesAfterTheHelloAreIgnored) {
  const std::string hello = real_client_hello("a.example.test") + "\x17\x03\x03garbage";
  EXPECT_EQ(parse_client_hello(hello).server_name, "a.example.test");
}

TEST(ClientHello, NotTls) {
  EXPECT_EQ(parse_client_hello("GET / HTTP/1.1\r\n").status, Status::kNotTls);
  EXPECT_EQ(parse_client_hello("G").status, Status::kNotTls);  // decided from the first byte
  // A handshake record that is not a ClientHello (ServerHello, type 2).
  EXPECT_EQ(parse_client_hello(std::string("\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9)).status,
            Status::kNotTls);
  // A ClientHello whose body is cut short inside its own length.
  std::string broken("\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00", 13);
  EXPECT_EQ(parse_client_hello(broken).status, Status::kNotTls);
}

TEST(ClientHello, TooLarge) {
  const std::string hello = real_client_hello("a.example.test");
  EXPECT_EQ(parse_client_hello(hello, 64).status, Status::kTooLarge);
  EXPECT_EQ(parse_client_hello(hello, hello.size()).status, Status::kDone);
}

}  // namespace
}  // namespace torii::net
