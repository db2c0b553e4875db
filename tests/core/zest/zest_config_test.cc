#include "core/zest/zest_config.h"

#include <gtest/gtest.h>

namespace textclf::zest {
namespace {

TEST(ZestConfig, ResolvesBinaryDefaultsFromTheStudy) {
  auto r = ResolveConfig(v1::ZestConfig(), 2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->mode(), v1::ZestConfig::BINARY);
  EXPECT_EQ(r->level(), 22);
  EXPECT_DOUBLE_EQ(r->dict_size_factor(), 0.6);
  EXPECT_EQ(r->max_dicts(), 7);
  EXPECT_EQ(r->min_dict_size(), 256);
  EXPECT_DOUBLE_EQ(r->compression_threshold(), 0.9);
  EXPECT_DOUBLE_EQ(r->char_df_threshold(), 0.005);
  EXPECT_EQ(r->repetitions(), 2);
  EXPECT_FALSE(r->lowercase());
  EXPECT_FALSE(r->split_sentences());
}

TEST(ZestConfig, ResolvesMulticlassDefaults) {
  auto r = ResolveConfig(v1::ZestConfig(), 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->mode(), v1::ZestConfig::MULTICLASS);
  EXPECT_EQ(r->max_dicts(), 4);
  EXPECT_TRUE(r->lowercase());
  EXPECT_TRUE(r->split_sentences());
}

TEST(ZestConfig, KeepsExplicitValues) {
  v1::ZestConfig c;
  c.set_level(3);
  c.set_lowercase(false);
  c.set_max_dicts(2);
  auto r = ResolveConfig(c, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->level(), 3);
  EXPECT_FALSE(r->lowercase());
  EXPECT_EQ(r->max_dicts(), 2);
}

TEST(ZestConfig, RejectsOneClass) {
  auto r = ResolveConfig(v1::ZestConfig(), 1);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("two classes"), std::string_view::npos);
}

TEST(ZestConfig, RejectsBinaryModeWithThreeClasses) {
  v1::ZestConfig c;
  c.set_mode(v1::ZestConfig::BINARY);
  EXPECT_EQ(ResolveConfig(c, 3).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ZestConfig, NamesTheFieldOutOfRange) {
  v1::ZestConfig c;
  c.set_level(40);
  auto r = ResolveConfig(c, 2);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("zest.level"), std::string_view::npos);
  c.set_level(0);
  c.set_min_dict_size(100);
  EXPECT_NE(ResolveConfig(c, 2).status().message().find("zest.min_dict_size"), std::string_view::npos);
  c.set_min_dict_size(0);
  c.set_dict_size_factor(1.5);
  EXPECT_NE(ResolveConfig(c, 2).status().message().find("zest.dict_size_factor"), std::string_view::npos);
}

}  // namespace
}  // namespace textclf::zest
