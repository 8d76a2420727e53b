#include "http/header_map.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace torii::http {
namespace {

TEST(HeaderMapTest, NamesAreLowerCasedAndLookupIsCaseInsensitive) {
  HeaderMap h;
  h.add("X-Request-ID", "abc");
  h.add("Content-Type", "text/plain");
  ASSERT_NE(h.get("x-request-id"), nullptr);
  EXPECT_EQ(*h.get("X-REQUEST-ID"), "abc");
  EXPECT_EQ(h.entries()[1].name, "content-type");
  EXPECT_EQ(h.get("missing"), nullptr);
}

// Serialisers memcpy values; a null source is undefined even for 0 bytes
// (UBSan caught an empty `x-flag:` value reaching memcpy as a null view).
TEST(HeaderMapTest, EmptyValuesAreNonNullViews) {
  HeaderMap h;
  h.add("x-flag", "");
  h.set("x-other", std::string_view());
  EXPECT_NE(h.get("x-flag")->data(), nullptr);
  EXPECT_NE(h.get("x-other")->data(), nullptr);
  EXPECT_TRUE(h.get("x-flag")->empty());
}

TEST(HeaderMapTest, SetReplacesEveryFieldOfThatName) {
  HeaderMap h;
  h.add("via", "a");
  h.add("x", "1");
  h.add("Via", "b");
  h.set("VIA", "a-much-longer-value-than-the-first-one");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(*h.get("via"), "a-much-longer-value-than-the-first-one");
  EXPECT_EQ(h.get_joined("x"), "1");
}

TEST(HeaderMapTest, SetLowerMatchesFieldsAddedInAnyCase) {
  HeaderMap h;
  h.add("X-Forwarded-Proto", "http");
  h.add("x", "1");
  h.add("x-forwarded-PROTO", "ftp");
  h.set_lower("x-forwarded-proto", "https");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get_joined("X-Forwarded-Proto"), "https");
  h.set_lower("x-request-id", "abc");  // absent: appended, last
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.entries().back().name, "x-request-id");
  EXPECT_EQ(*h.get("X-Request-Id"), "abc");
}

TEST(HeaderMapTest, ManyAndLargeFieldsSpanChunks) {
  HeaderMap h;
  std::string big(3 * ByteArena::kChunkBytes, 'v');  // larger than a chunk
  for (int i = 0; i < 200; ++i)
    h.add("x-field-" + std::to_string(i), std::string(40, static_cast<char>('a' + i % 26)));
  h.add("x-big", big);
  h.add("x-after", "small");
  for (int i = 0; i < 200; ++i) {
    const std::string_view* v = h.get("x-field-" + std::to_string(i));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, std::string(40, static_cast<char>('a' + i % 26)));
  }
  EXPECT_EQ(*h.get("x-big"), big);
  EXPECT_EQ(*h.get("x-after"), "small");
}

TEST(HeaderMapTest, MoveKeepsViewsCopyIsIndependent) {
  HeaderMap a;
  a.add("user-agent", "a-user-agent-longer-than-sso");
  std::string_view before = *a.get("user-agent");
  HeaderMap moved(std::move(a));
  EXPECT_EQ(moved.get("user-agent")->data(), before.data());  // same bytes, not copied
  HeaderMap copy(moved);
  moved.set("user-agent", "changed");
  moved.clear();
  ASSERT_NE(copy.get("user-agent"), nullptr);
  EXPECT_EQ(*copy.get("user-agent"), "a-user-agent-longer-than-sso");
  HeaderMap assigned;
  assigned.add("old", "value");
  assigned = copy;
  EXPECT_EQ(assigned.get("old"), nullptr);
  EXPECT_EQ(*assigned.get("user-agent"), "a-user-agent-longer-than-sso");
}

}  // namespace
}  // namespace torii::http
