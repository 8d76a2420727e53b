// exportTo semantics (§3.1, §5.1, §6.1).
#include "compile/visibility.h"

#include <gtest/gtest.h>

namespace torii::compile {
namespace {

using List = std::vector<std::string>;

TEST(Visibility, IsVisibleTo) {
  EXPECT_TRUE(is_visible_to({}, "app", "istio-system"));  // mesh default `*`
  EXPECT_TRUE(is_visible_to(List{"*"}, "app", "istio-system"));
  EXPECT_FALSE(is_visible_to(List{"."}, "app", "istio-system"));  // B.5
  EXPECT_TRUE(is_visible_to(List{"."}, "app", "app"));
  EXPECT_TRUE(is_visible_to(List{".", "istio-system"}, "app", "istio-system"));
  EXPECT_FALSE(is_visible_to(List{"other"}, "app", "istio-system"));
  EXPECT_FALSE(is_visible_to(List{"~"}, "app", "app"));
}

TEST(Visibility, IsPrivate) {
  EXPECT_FALSE(is_private({}, "app"));
  EXPECT_TRUE(is_private(List{"."}, "app"));
  EXPECT_TRUE(is_private(List{"app"}, "app"));
  EXPECT_TRUE(is_private(List{".", "app"}, "app"));
  EXPECT_FALSE(is_private(List{".", "istio-system"}, "app"));
  EXPECT_FALSE(is_private(List{"*"}, "app"));
}

TEST(Visibility, SplitAnnotation) {
  EXPECT_EQ(split_export_to_annotation("a, b,,c "), (List{"a", "b", "c"}));
  EXPECT_EQ(split_export_to_annotation(""), List{});
  EXPECT_EQ(split_export_to_annotation("."), List{"."});
}

}  // namespace
}  // namespace torii::compile
