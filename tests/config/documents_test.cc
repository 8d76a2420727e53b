#include "config/documents.h"

#include <gtest/gtest.h>

namespace torii::config {
namespace {

TEST(DocumentsTest, SplitsOnSeparatorLines) {
  const auto docs = split_documents("a: 1\n---\nb: 2\n--- # comment\nc: 3\n---\t\n");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].text, "a: 1\n");
  EXPECT_EQ(docs[0].first_line, 0);
  EXPECT_EQ(docs[1].text, "b: 2\n");
  EXPECT_EQ(docs[1].first_line, 2);
  EXPECT_EQ(docs[2].text, "c: 3\n");
  EXPECT_EQ(docs[2].first_line, 4);
  EXPECT_EQ(docs[3].text, "");
}

TEST(DocumentsTest, NotSeparators) {
  // kubectl treats "--- x" and "----" as content, and indented dashes too.
  const auto docs = split_documents("a: |\n  ---\nb: --- x\n");
  ASSERT_EQ(docs.size(), 1u);
}

TEST(DocumentsTest, LeadingSeparatorAndCrlf) {
  const auto docs = split_documents("---\r\na: 1\r\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].text, "");
  EXPECT_EQ(docs[1].first_line, 1);
}

}  // namespace
}  // namespace torii::config
