#include "config/field_lines.h"

#include <gtest/gtest.h>

#include "config/yaml_tree.h"

namespace torii::config {
namespace {

// The document starts on line 11 of its file (line_offset 10).
constexpr const char* kDocument =
    "metadata:\n"                        // 11
    "  labels:\n"                        // 12
    "    app.kubernetes.io/name: web\n"  // 13
    "spec:\n"                            // 14
    "  http:\n"                          // 15
    "  - route:\n"                       // 16
    "    - destination:\n"               // 17
    "        host: a\n"                  // 18
    "    - destination: {host: b}\n"     // 19
    "    timeout: null\n";               // 20

class FieldLinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    YamlDocument::Error error;
    ASSERT_TRUE(doc_.parse(kDocument, &error)) << error.message;
  }
  YamlDocument doc_;
};

TEST_F(FieldLinesTest, FindsTheLineOfEachField) {
  const YamlNode root = doc_.root();
  const FieldLines lines(root, 10);
  EXPECT_EQ(lines.line_of("metadata", 1), 11);
  EXPECT_EQ(lines.line_of("metadata.labels[app.kubernetes.io/name]", 1), 13);
  EXPECT_EQ(lines.line_of("spec.http", 1), 15);
  EXPECT_EQ(lines.line_of("spec.http[0]", 1), 16);
  EXPECT_EQ(lines.line_of("spec.http[0].route[0].destination.host", 1), 18);
  EXPECT_EQ(lines.line_of("spec.http[0].route[1]", 1), 19);
  EXPECT_EQ(lines.line_of("spec.http[0].route[1].destination.host", 1), 19);
}

TEST_F(FieldLinesTest, AMissingOrNullFieldHasItsClosestPresentParentsLine) {
  const YamlNode root = doc_.root();
  const FieldLines lines(root, 10);
  EXPECT_EQ(lines.line_of("spec.http[0].timeout", 1), 16);           // null
  EXPECT_EQ(lines.line_of("spec.http[0].retries.attempts", 1), 16);  // missing
  EXPECT_EQ(lines.line_of("spec.http[0].route[7].weight", 1), 16);   // no such item
  EXPECT_EQ(lines.line_of("spec.http[x]", 1), 15);                   // not an index
  EXPECT_EQ(lines.line_of("status", 7), 7);                          // nothing: the fallback
  EXPECT_EQ(lines.line_of("", 7), 7);
}

TEST(FieldLinesDefaultTest, KnowsNoLine) {
  const FieldLines none;
  EXPECT_EQ(none.line_of("spec.http[0]", 5), 5);
  EXPECT_EQ(line_of(none, "spec", 3), 3);
}

}  // namespace
}  // namespace torii::config
