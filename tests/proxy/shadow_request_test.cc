// Envoy's shadow host suffix (shadowAppendedHost) for mirrored requests.
#include "proxy/shadow_request.h"

#include <gtest/gtest.h>

namespace torii::proxy {
namespace {

TEST(ShadowHostTest, SuffixGoesBeforeThePort) {
  EXPECT_EQ(shadow_host("a.com"), "a.com-shadow");
  EXPECT_EQ(shadow_host("a.com:8080"), "a.com-shadow:8080");
  EXPECT_EQ(shadow_host("10.0.0.1:80"), "10.0.0.1-shadow:80");
  EXPECT_EQ(shadow_host("[::1]:80"), "[::1]-shadow:80");
  EXPECT_EQ(shadow_host("[::1]"), "[::1]-shadow");
}

}  // namespace
}  // namespace torii::proxy
