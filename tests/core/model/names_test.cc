#include "core/model/names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace textclf {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(NamesTest, IdentifiersAreShortSafePathComponents) {
  for (const std::string& name : std::vector<std::string>{"", "../x", "a/b", ".hidden", "-x", "_x", "a b", "a\nb", std::string("a\0b", 3)}) {
    EXPECT_EQ(ValidateModelName(name).code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_EQ(ValidateDatasetName(name).code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_TRUE(ValidateModelName("news-v2.1_b").ok());
  EXPECT_TRUE(ValidateDatasetName("held-out").ok());
  EXPECT_TRUE(ValidateDatasetName(std::string(kMaxIdentifierLength, 'd')).ok());
}

TEST(NamesTest, LongNamesAreRefusedWithoutEchoingThem) {
  const std::string huge(8 << 20, 'x');
  for (const absl::Status& s : {ValidateModelName(huge), ValidateDatasetName(huge)}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("the limit is 128"));
    EXPECT_LT(s.message().size(), 200u);
  }
  EXPECT_THAT(ValidateDatasetName(std::string(129, 'd')).message(), HasSubstr("data set"));
}

TEST(NamesTest, ClassNamesAreBoundedTextWithoutControlCharacters) {
  EXPECT_TRUE(ValidateClassName("Film & Animation", "class").ok());
  EXPECT_TRUE(ValidateClassName("спорт", "class").ok());
  for (const std::string& bad : std::vector<std::string>{"", "a\tb", "line\n", "\x7f", "\xc2\x85", "\xff", std::string(kMaxClassNameBytes + 1, 'c')}) {
    absl::Status s = ValidateClassName(bad, "class name 2");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("class name 2"));
  }
  EXPECT_THAT(ValidateClassName("a\nb", "c").message(), Not(HasSubstr("\n")));
}

TEST(NamesTest, ClassNameListsAreBoundedInCount) {
  std::vector<std::string> names;
  for (size_t i = 0; i < kMaxClasses; ++i) names.push_back("c" + std::to_string(i));
  EXPECT_TRUE(ValidateClassNames(names).ok());
  names.push_back("one-too-many");
  EXPECT_THAT(ValidateClassNames(names).message(), HasSubstr("the limit is 1000"));
  EXPECT_THAT(ValidateClassNames(std::vector<std::string>{"ok", "bad\x01"}).message(), HasSubstr("class name 2"));
}

}  // namespace
}  // namespace textclf
