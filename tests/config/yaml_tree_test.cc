#include "config/yaml_tree.h"

#include <gtest/gtest.h>

#include <cmath>

#include "config/content_hash.h"
#include "config/yaml_fields.h"

namespace torii::config {
namespace {

YamlNode value_of(const YamlNode& map, std::string_view key) {
  for (const YamlNode::Entry& e : map.entries()) {
    if (e.key.Scalar() == key) return e.value;
  }
  return YamlNode();
}

TEST(YamlTreeTest, ScalarsMapsListsAndLines) {
  YamlDocument doc;
  YamlDocument::Error error;
  ASSERT_TRUE(doc.parse("a: 1\nb:\n  - x\n  - {c: d}\n", &error)) << error.message;
  const YamlNode root = doc.root();
  ASSERT_TRUE(root.IsMap());
  ASSERT_EQ(root.entries().size(), 2u);
  EXPECT_EQ(value_of(root, "a").Scalar(), "1");
  EXPECT_EQ(root.entries()[1].key.line(), 1);
  const YamlNode b = value_of(root, "b");
  ASSERT_TRUE(b.IsSequence());
  ASSERT_EQ(b.items().size(), 2u);
  EXPECT_EQ(b.items()[0].Scalar(), "x");
  EXPECT_EQ(b.items()[0].line(), 2);
  EXPECT_EQ(value_of(b.items()[1], "c").Scalar(), "d");
  EXPECT_EQ(b.items()[1].line(), 3);
  // Accessors of the wrong kind give empty results, never a crash.
  EXPECT_TRUE(b.entries().empty());
  EXPECT_EQ(b.Scalar(), "");
  EXPECT_FALSE(YamlNode().IsDefined());
  EXPECT_EQ(YamlNode().line(), -1);
}

TEST(YamlTreeTest, NullOnlyForPlainNullForms) {
  YamlDocument doc;
  ASSERT_TRUE(doc.parse("a:\nb: ~\nc: null\nd: NULL\ne: 'null'\nf: \"\"\ng: !!null x\nh: nil\n", nullptr));
  const YamlNode root = doc.root();
  for (const char* key : {"a", "b", "c", "d", "g"}) EXPECT_TRUE(value_of(root, key).IsNull()) << key;
  EXPECT_TRUE(value_of(root, "e").IsScalar());
  EXPECT_EQ(value_of(root, "e").Scalar(), "null");
  EXPECT_TRUE(value_of(root, "f").IsScalar());  // a quoted empty string is a string
  EXPECT_EQ(value_of(root, "h").Scalar(), "nil");
}

TEST(YamlTreeTest, AliasesShareTheirAnchorsNode) {
  YamlDocument doc;
  ASSERT_TRUE(doc.parse("base: &b {x: 1}\nuse: *b\nlist: [&s one, *s]\n", nullptr));
  const YamlNode root = doc.root();
  EXPECT_TRUE(value_of(root, "base") == value_of(root, "use"));
  EXPECT_EQ(value_of(root, "list").items()[1].Scalar(), "one");
}

TEST(YamlTreeTest, ErrorsSayWhatAndWhere) {
  YamlDocument doc;
  YamlDocument::Error error;
  EXPECT_FALSE(doc.parse("a: 1\nb: [1, 2\nc: 3\n", &error));
  EXPECT_FALSE(error.message.empty());
  EXPECT_GE(error.line, 1);
  EXPECT_FALSE(doc.parse("a: *nowhere\n", &error));
  EXPECT_EQ(error.message, "unknown anchor \"nowhere\"");
  EXPECT_EQ(error.line, 0);
  EXPECT_FALSE(doc.parse("a: 1\n  b: 2\n", &error));
}

TEST(YamlTreeTest, EmptyTextIsAnUndefinedRoot) {
  YamlDocument doc;
  ASSERT_TRUE(doc.parse("", nullptr));
  EXPECT_FALSE(doc.root().IsDefined());
  ASSERT_TRUE(doc.parse("# only a comment\n", nullptr));
  EXPECT_FALSE(doc.root().IsDefined());
}

TEST(YamlTreeTest, ContentHashIgnoresStyleAndKeyOrder) {
  YamlDocument a, b, c;
  ASSERT_TRUE(a.parse("x: 1\ny: [a, 'b']\nz: {p: q}\n", nullptr));
  ASSERT_TRUE(b.parse("# reformatted\nz:\n  p: \"q\"\ny:\n- a\n- b\nx: '1'\n", nullptr));
  ASSERT_TRUE(c.parse("x: 1\ny: [a, b]\nz: {p: r}\n", nullptr));
  EXPECT_EQ(content_hash(a.root()), content_hash(b.root()));
  EXPECT_NE(content_hash(a.root()), content_hash(c.root()));
}

TEST(YamlFieldsTest, ScalarToDouble) {
  EXPECT_EQ(scalar_to_double("12.5"), 12.5);
  EXPECT_EQ(scalar_to_double("+3"), 3.0);
  EXPECT_EQ(scalar_to_double("-1e2"), -100.0);
  EXPECT_TRUE(std::isinf(*scalar_to_double(".inf")));
  EXPECT_TRUE(std::isnan(*scalar_to_double(".nan")));
  for (const char* bad : {"", "inf", "nan", "0x10", "1.5s", "abc", "1,5"}) {
    EXPECT_FALSE(scalar_to_double(bad).has_value()) << bad;
  }
}

TEST(YamlFieldsTest, DecodeBase64BothAlphabetsPaddingOptional) {
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64("aGVsbG8"), "hello");
  EXPECT_EQ(decode_base64("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(decode_base64("+/8="), std::string("\xfb\xff", 2));
  EXPECT_FALSE(decode_base64("a").has_value());
  EXPECT_FALSE(decode_base64("a$bc").has_value());
}

}  // namespace
}  // namespace torii::config
