// Config ordering: istiod configCompareByCreationTime (§0.3).
#include "compile/creation_order.h"

#include <gtest/gtest.h>

namespace torii::compile {
namespace {

config::ObjectMeta meta(std::string ns, std::string name, std::string ts, int64_t order) {
  config::ObjectMeta m;
  m.namespace_ = std::move(ns);
  m.name = std::move(name);
  m.creation_timestamp = std::move(ts);
  m.load_order = order;
  return m;
}

TEST(Rfc3339, Parses) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01Z"), 1'000'000'000);
  EXPECT_EQ(parse_rfc3339("2024-02-29T12:00:00Z"), int64_t{1709208000} * 1'000'000'000);
  EXPECT_EQ(parse_rfc3339("2024-02-29T14:00:00+02:00"), parse_rfc3339("2024-02-29T12:00:00Z"));
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.5Z"), 500'000'000);
  EXPECT_EQ(parse_rfc3339("1970-01-01t00:00:00z"), 0);
}

TEST(Rfc3339, RejectsGarbage) {
  EXPECT_FALSE(parse_rfc3339(""));
  EXPECT_FALSE(parse_rfc3339("2024-02-29"));
  EXPECT_FALSE(parse_rfc3339("2024-02-29T12:00:00"));  // no zone
  EXPECT_FALSE(parse_rfc3339("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2024-02-29T12:00:00Zjunk"));
}

TEST(CreatedBefore, TimestampThenNameThenNamespace) {
  auto old_b = meta("ns", "b", "2024-01-01T00:00:00Z", 9);
  auto new_a = meta("ns", "a", "2024-01-02T00:00:00Z", 1);
  EXPECT_TRUE(created_before(old_b, new_a));  // time beats load order and name
  EXPECT_FALSE(created_before(new_a, old_b));

  auto same_a = meta("ns", "a", "2024-01-01T00:00:00Z", 5);
  EXPECT_TRUE(created_before(same_a, old_b));  // same second: by name

  auto ns1 = meta("ns1", "a", "2024-01-01T00:00:00Z", 5);
  auto ns2 = meta("ns2", "a", "2024-01-01T00:00:00Z", 1);
  EXPECT_TRUE(created_before(ns1, ns2));  // then namespace
}

TEST(CreatedBefore, LoadOrderStandsInForMissingTimestamps) {
  auto first = meta("ns", "z", "", 1);
  auto second = meta("ns", "a", "", 2);
  EXPECT_TRUE(created_before(first, second));
  // An object with a timestamp counts as older than one being created now.
  auto stamped = meta("ns", "z", "2030-01-01T00:00:00Z", 99);
  EXPECT_TRUE(created_before(stamped, first));
  // Unparseable timestamp => treated as absent.
  auto broken = meta("ns", "a", "yesterday", 0);
  EXPECT_TRUE(created_before(broken, first));
  EXPECT_TRUE(created_before(stamped, broken));
}

}  // namespace
}  // namespace torii::compile
