#include "core/xclass/xclass_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

using ::testing::HasSubstr;

TEST(XClassConfig, NeedsExactlyOneEncoder) {
  EXPECT_THAT(std::string(ResolveXClassConfig(v1::XClassConfig()).status().message()), HasSubstr("encoder_model"));
  v1::XClassConfig both;
  both.set_encoder_model("enc");
  both.set_encoder_path("/models/bert");
  EXPECT_FALSE(ResolveXClassConfig(both).ok());
}

TEST(XClassConfig, ResolvesThePapersDefaults) {
  v1::XClassConfig c;
  c.set_encoder_model("enc");
  auto r = ResolveXClassConfig(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->min_word_count(), 5);
  EXPECT_EQ(r->max_keywords(), 100);
  EXPECT_EQ(r->pca_components(), 64);
  EXPECT_DOUBLE_EQ(r->select_fraction(), 0.5);
  EXPECT_FALSE(r->attention_weights());
  EXPECT_FALSE(r->per_class_thresholds());
  c.set_pca_variance(95);
  EXPECT_THAT(std::string(ResolveXClassConfig(c).status().message()), HasSubstr("pca_variance"));
}

TEST(XClassConfig, ChoosesTheFinalClassifierByEncoderSize) {
  v1::XClassConfig c;
  c.set_encoder_model("enc");
  const v1::XClassConfig base = *ResolveXClassConfig(c);
  auto small = ResolveForEncoder(base, {5'000'000, 4, 128, false});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->final_classifier(), v1::XClassConfig::FINE_TUNE);
  EXPECT_EQ(small->layer(), 4);
  EXPECT_EQ(small->max_length(), 128);
  EXPECT_EQ(small->epochs(), 3);
  auto bert_base = ResolveForEncoder(base, {110'000'000, 12, 512, false});
  EXPECT_EQ(bert_base->final_classifier(), v1::XClassConfig::FROZEN_HEAD);
  auto bert_base_gpu = ResolveForEncoder(base, {110'000'000, 12, 512, true});
  EXPECT_EQ(bert_base_gpu->final_classifier(), v1::XClassConfig::FINE_TUNE);
  EXPECT_DOUBLE_EQ(bert_base_gpu->learning_rate(), 5e-5);
  v1::XClassConfig deep = base;
  deep.set_layer(7);
  EXPECT_THAT(std::string(ResolveForEncoder(deep, {1, 4, 128, false}).status().message()), HasSubstr("layers 1..4"));
}

}  // namespace
}  // namespace textclf::xclass
