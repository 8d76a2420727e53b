// Random and mutated inputs through the parsers' fuzz entry point: nothing
// may crash, hang or break the invariants checked there.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "http/http1_parser.h"

namespace torii::http {
namespace {

const char* kSeeds[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "GET http://h/p?q HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
};

TEST(Http1FuzzTest, PureRandomBytes) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 512, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    fuzz_http1_parsers(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
}

TEST(Http1FuzzTest, MutatedValidMessages) {
  std::mt19937_64 rng(777);
  const std::string alphabet = "\r\n :;0123456789abcdefABCDEF/?-\t\x00\x7f\xff";
  size_t parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = kSeeds[rng() % std::size(kSeeds)];
    s += kSeeds[rng() % std::size(kSeeds)];
    int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          s.erase(pos, 1 + rng() % 3);
          break;
      }
      if (s.empty()) s = "x";
    }
    parsed += fuzz_http1_parsers(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  EXPECT_GT(parsed, 0u);  // the mutator keeps some messages valid
}

TEST(Http1FuzzTest, ValidSeedsParse) {
  size_t n = 0;
  for (const char* seed : kSeeds)
    n += fuzz_http1_parsers(reinterpret_cast<const uint8_t*>(seed), std::strlen(seed));
  EXPECT_GE(n, 4u);
}

}  // namespace
}  // namespace torii::http
