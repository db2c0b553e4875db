// ENCODER_MLM as a family: configuration defaults, training into a staging folder, loading the
// published files, and the refusal to classify.
#include "core/encoder/encoder_family.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/encoder/bert_tokenizer.h"
#include "core/encoder/encoder.h"
#include "core/encoder/encoder_config.h"
#include "core/families/families.h"
#include "tests/core/encoder/encoder_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::encoder {
namespace {

using ::testing::HasSubstr;

TEST(EncoderConfig, ResolvesTheIssueDefaults) {
  auto c = ResolveEncoderConfig(v1::EncoderConfig());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->layers(), 4);
  EXPECT_EQ(c->hidden_size(), 256);
  EXPECT_EQ(c->heads(), 4);
  EXPECT_EQ(c->intermediate_size(), 1024);
  EXPECT_EQ(c->max_length(), 128);
  EXPECT_DOUBLE_EQ(c->mask_probability(), 0.15);
  EXPECT_EQ(c->vocab_file(), "") << "learned from the texts, nothing read from the server's disk";
  EXPECT_EQ(c->vocab_size(), kDefaultLearnedVocabSize);
  const BertConfig b = BertConfigFor(*c, 30522);
  EXPECT_EQ(b.max_position_embeddings, 128);
  EXPECT_DOUBLE_EQ(b.layer_norm_eps, 1e-12);
}

TEST(EncoderConfig, RejectsBadValuesNamingTheField) {
  v1::EncoderConfig c;
  c.set_hidden_size(100);
  c.set_heads(3);
  EXPECT_THAT(std::string(ResolveEncoderConfig(c).status().message()), HasSubstr("encoder.heads"));
  c = v1::EncoderConfig();
  c.set_learning_rate(-1);
  EXPECT_THAT(std::string(ResolveEncoderConfig(c).status().message()), HasSubstr("encoder.learning_rate"));
  c = v1::EncoderConfig();
  c.set_max_length(1000);
  EXPECT_THAT(std::string(ResolveEncoderConfig(c).status().message()), HasSubstr("encoder.max_length"));
  c = v1::EncoderConfig();
  c.set_vocab_size(10);
  EXPECT_THAT(std::string(ResolveEncoderConfig(c).status().message()), HasSubstr("encoder.vocab_size"));
  c.set_vocab_file("/some/vocab.txt");  // the size of a given vocabulary is the file's
  EXPECT_TRUE(ResolveEncoderConfig(c).ok());
}

class EncoderFamilyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteFileDurably(dir_.path() / "vocab.txt", testing::MakeVocab({"goal", "match", "oven", "bake"})).ok());
    std::filesystem::create_directories(dir_.path() / "out");
    ctx_.pool = &pool_;
    ctx_.cancel = &cancel_;
    ctx_.output_dir = dir_.path() / "out";
    start_.set_family(v1::ENCODER_MLM);
    v1::EncoderConfig* c = start_.mutable_config()->mutable_encoder();
    c->set_layers(1);
    c->set_hidden_size(16);
    c->set_heads(2);
    c->set_max_length(16);
    c->set_batch_size(8);
    c->set_device("cpu");
    c->set_vocab_file((dir_.path() / "vocab.txt").string());
    for (int i = 0; i < 40; ++i) {
      data_.texts.push_back(i % 2 ? "goal match goal" : "oven bake oven");
      data_.labels.push_back(-1);
    }
  }

  ::textclf::testing::TempDir dir_;
  ThreadPool pool_{1};
  CancellationToken cancel_;
  TrainContext ctx_;
  v1::TrainStart start_;
  TrainingSet data_;
};

TEST_F(EncoderFamilyTest, TrainsACheckpointThatLoadsAndRefusesToClassify) {
  const FamilyDescriptor* ops = EncoderMlmFamily();
  ASSERT_NE(ops, nullptr);
  auto manifest = ops->train(start_, data_, ctx_);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->family(), v1::ENCODER_MLM);
  EXPECT_EQ(manifest->encoder().steps(), 5);  // 40 texts / 8 per batch, one epoch
  EXPECT_EQ(manifest->encoder().resolved().hidden_size(), 16);
  EXPECT_GT(manifest->encoder().parameters(), 0);
  auto checkpoint = ReadCheckpointFolder(ctx_.output_dir);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  auto encoder = Encoder::Load(*checkpoint, "cpu");
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_EQ(encoder->get()->parameter_count(), manifest->encoder().parameters());

  ModelFiles files;
  files.contents[kConfigFile] = checkpoint->config_json;
  files.contents[kWeightsFile] = checkpoint->weights;
  files.contents[kVocabFile] = checkpoint->vocab;
  manifest->set_name("enc");
  manifest->set_version(3);
  auto model = ops->load(*manifest, files);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_TRUE((*model)->ValidateInput(ModelInput{"goal"}).ok());
  const std::vector<ModelInput> batch = {{"goal"}};
  ScoreMatrix scores;
  const absl::Status refusal = (*model)->Run(batch, Device{}, &scores);
  EXPECT_EQ(refusal.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("\"encoder_model\": \"enc\""));
  files.contents.erase(kWeightsFile);
  EXPECT_FALSE(ops->load(*manifest, files).ok());
}

// What the container image does: no vocab.txt anywhere, the vocabulary comes from the texts.
TEST_F(EncoderFamilyTest, WithoutAVocabFileLearnsTheVocabularyFromTheTexts) {
  v1::EncoderConfig* c = start_.mutable_config()->mutable_encoder();
  c->clear_vocab_file();
  c->set_vocab_size(64);
  auto manifest = EncoderMlmFamily()->train(start_, data_, ctx_);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  auto checkpoint = ReadCheckpointFolder(ctx_.output_dir);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  auto tokenizer = BertTokenizer::Create(checkpoint->vocab);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  EXPECT_LE(tokenizer->vocab_size(), 64);
  for (const char* word : {"goal", "match", "oven", "bake"}) EXPECT_GE(tokenizer->Id(word), 0) << word;
  auto encoder = Encoder::Load(*checkpoint, "cpu");
  ASSERT_TRUE(encoder.ok()) << encoder.status();
}

TEST_F(EncoderFamilyTest, RejectsEvalExamplesAndAMissingVocabulary) {
  data_.eval_texts = {"goal"};
  data_.eval_labels = {0};
  EXPECT_THAT(std::string(EncoderMlmFamily()->train(start_, data_, ctx_).status().message()), HasSubstr("EVAL"));
  data_.eval_texts.clear();
  start_.mutable_config()->mutable_encoder()->set_vocab_file("/nonexistent/vocab.txt");
  EXPECT_THAT(std::string(EncoderMlmFamily()->train(start_, data_, ctx_).status().message()),
              HasSubstr("encoder.vocab_file"));
}

TEST_F(EncoderFamilyTest, StopsWhenCancelled) {
  cancel_.Cancel();
  EXPECT_EQ(EncoderMlmFamily()->train(start_, data_, ctx_).status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace textclf::encoder
