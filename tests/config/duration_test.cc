#include "config/duration.h"

#include <gtest/gtest.h>

namespace torii::config {
namespace {

constexpr int64_t kMs = 1000 * 1000;

TEST(DurationTest, IstioForms) {
  EXPECT_EQ(parse_duration_ns("1.5s"), 1500 * kMs);
  EXPECT_EQ(parse_duration_ns("100ms"), 100 * kMs);
  EXPECT_EQ(parse_duration_ns("1m"), 60000 * kMs);
  EXPECT_EQ(parse_duration_ns("1h"), 3600000 * kMs);
  EXPECT_EQ(parse_duration_ns("0.001s"), 1 * kMs);
  EXPECT_EQ(parse_duration_ns("1m30s"), 90000 * kMs);
  EXPECT_EQ(parse_duration_ns("0"), 0);
  EXPECT_EQ(parse_duration_ns("0s"), 0);
  EXPECT_EQ(parse_duration_ns(".5s"), 500 * kMs);
  EXPECT_EQ(parse_duration_ns("250us"), 250 * 1000);
  EXPECT_EQ(parse_duration_ns("250\xC2\xB5s"), 250 * 1000);
  EXPECT_EQ(parse_duration_ns("7ns"), 7);
  EXPECT_EQ(parse_duration_ns("-2s"), -2000 * kMs);
  EXPECT_EQ(parse_duration_ns("+2s"), 2000 * kMs);
}

TEST(DurationTest, Errors) {
  std::string error;
  EXPECT_FALSE(parse_duration_ns("10", &error));
  EXPECT_EQ(error, "missing unit in duration \"10\"");
  EXPECT_FALSE(parse_duration_ns("10 s", &error));
  EXPECT_FALSE(parse_duration_ns("5d", &error));
  EXPECT_EQ(error, "unknown unit \"d\" in duration \"5d\"");
  EXPECT_FALSE(parse_duration_ns("", &error));
  EXPECT_FALSE(parse_duration_ns("s", &error));
  EXPECT_FALSE(parse_duration_ns(".s", &error));
  EXPECT_FALSE(parse_duration_ns("99999999999999999999h", &error));
  EXPECT_EQ(error, "invalid duration \"99999999999999999999h\"");
}

}  // namespace
}  // namespace torii::config
