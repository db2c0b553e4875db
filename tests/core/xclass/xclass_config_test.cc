#include "core/xclass/xclass_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::xclass {
namespace {

using ::testing::HasSubstr;

TEST(XClassConfig, NamesAtMostOneEncoder) {
  v1::XClassConfig both;
  both.set_encoder_model("enc");
  both.set_encoder_path("/models/bert");
  EXPECT_THAT(std::string(ResolveXClassConfig(both).status().message()), HasSubstr("not both"));
  v1::XClassConfig named;
  named.set_encoder_model("enc");
  named.mutable_pretrain_encoder()->set_layers(2);
  EXPECT_THAT(std::string(ResolveXClassConfig(named).status().message()), HasSubstr("pretrain_encoder applies only"));
}

TEST(XClassConfig, WithoutAnEncoderPretrainsASmallOne) {
  auto r = ResolveXClassConfig(v1::XClassConfig());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(PretrainsEncoder(*r));
  const v1::EncoderConfig& e = r->pretrain_encoder();
  EXPECT_EQ(e.hidden_size(), kPretrainHiddenSize);
  EXPECT_EQ(e.max_length(), kPretrainMaxLength);
  EXPECT_EQ(e.epochs(), kPretrainEpochs);
  EXPECT_DOUBLE_EQ(e.learning_rate(), kPretrainLearningRate);
  EXPECT_DOUBLE_EQ(e.max_seconds(), kPretrainMaxSeconds);
  EXPECT_EQ(e.layers(), 4) << "ENCODER_MLM's default";
  EXPECT_TRUE(e.vocab_file().empty()) << "the vocabulary is learned from the documents";
  EXPECT_GT(e.vocab_size(), 0);
  v1::XClassConfig chosen;
  chosen.mutable_pretrain_encoder()->set_hidden_size(256);
  chosen.mutable_pretrain_encoder()->set_max_seconds(60);
  EXPECT_EQ(ResolveXClassConfig(chosen)->pretrain_encoder().hidden_size(), 256);
  EXPECT_DOUBLE_EQ(ResolveXClassConfig(chosen)->pretrain_encoder().max_seconds(), 60);
  v1::XClassConfig odd;
  odd.mutable_pretrain_encoder()->set_hidden_size(130);  // not a multiple of 4 heads
  EXPECT_THAT(std::string(ResolveXClassConfig(odd).status().message()),
              HasSubstr("xclass.pretrain_encoder.hidden_size"));
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
