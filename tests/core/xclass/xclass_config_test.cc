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
  EXPECT_EQ(small->word_representations(), v1::XClassConfig::ADJUSTED);
  EXPECT_EQ(small->remove_top_directions(), 0);
  EXPECT_DOUBLE_EQ(small->document_context(), 0.5);
  EXPECT_EQ(bert_base->word_representations(), v1::XClassConfig::AS_ENCODED);
  EXPECT_DOUBLE_EQ(bert_base->document_context(), 0) << "only ADJUSTED has adjustment defaults";
  v1::XClassConfig deep = base;
  deep.set_layer(7);
  EXPECT_THAT(std::string(ResolveForEncoder(deep, {1, 4, 128, false}).status().message()), HasSubstr("layers 1..4"));
}

TEST(XClassConfig, WordAdjustmentsKeepWhatTheUserChose) {
  v1::XClassConfig c;
  c.set_encoder_model("enc");
  c.set_word_representations(v1::XClassConfig::ADJUSTED);
  c.set_document_context(-1);  // none
  c.set_remove_top_directions(5);
  auto big = ResolveForEncoder(*ResolveXClassConfig(c), {110'000'000, 12, 512, false});
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->word_representations(), v1::XClassConfig::ADJUSTED) << "asked for, whatever the size";
  EXPECT_DOUBLE_EQ(big->document_context(), -1);
  EXPECT_EQ(big->remove_top_directions(), 5);
  c.set_word_representations(v1::XClassConfig::AS_ENCODED);
  EXPECT_EQ(ResolveForEncoder(*ResolveXClassConfig(c), {5'000'000, 4, 128, false})->word_representations(),
            v1::XClassConfig::AS_ENCODED);
  c.set_remove_top_directions(-2);
  EXPECT_THAT(std::string(ResolveXClassConfig(c).status().message()), HasSubstr("remove_top_directions"));
  c.set_remove_top_directions(0);
  c.set_document_context(1.5);
  EXPECT_THAT(std::string(ResolveXClassConfig(c).status().message()), HasSubstr("document_context"));
}

}  // namespace
}  // namespace textclf::xclass
