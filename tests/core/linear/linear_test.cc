// The LINEAR family on its own: features, training with a validation split (logistic regression
// and naive Bayes), the temperature, weight storage in float32, float16 and int8, and loading
// what was written (and refusing a weights file of the wrong size).
#include <gmock/gmock.h>
#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>

#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/linear/linear_features.h"
#include "core/linear/linear_model.h"
#include "core/linear/linear_trainer.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/test_support.h"

namespace textclf::linear {
namespace {

using ::testing::HasSubstr;

v1::LinearConfig Resolved(v1::LinearConfig config = {}) { return *ResolveConfig(config); }

TEST(LinearFeatures, AreNormalizedHashedSortedAndOfUnitNorm) {
  FeatureScratch scratch;
  std::vector<Feature> a, b, c;
  ExtractFeatures("The cat, the CAT", Resolved(), &scratch, &a);
  ExtractFeatures("the cat the cat", Resolved(), &scratch, &b);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size()) << "case and clinging punctuation do not matter";
  double norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, b[i].index);
    if (i > 0) {
      EXPECT_LT(a[i - 1].index, a[i].index);
    }
    EXPECT_LT(a[i].index, 1u << 20);
    norm += a[i].value * a[i].value;
  }
  EXPECT_NEAR(norm, 1.0, 1e-5);
  // "the", "cat", "the cat", "cat the": four slots, the repeated ones weighted up sublinearly.
  EXPECT_EQ(a.size(), 4u);
  v1::LinearConfig no_bigrams;
  no_bigrams.set_word_bigrams(false);
  ExtractFeatures("the cat the cat", Resolved(no_bigrams), &scratch, &c);
  EXPECT_EQ(c.size(), 2u);
  v1::LinearConfig chars;
  chars.set_char_ngram_max(4);
  ExtractFeatures("the cat", Resolved(chars), &scratch, &c);
  EXPECT_GT(c.size(), 4u);
  ExtractFeatures("", Resolved(), &scratch, &c);
  EXPECT_TRUE(c.empty());
}

TEST(LinearConfig, ResolvesDefaultsAndRefusesWhatIsOutOfRange) {
  const v1::LinearConfig c = Resolved();
  EXPECT_EQ(c.hash_bits(), 20);
  EXPECT_TRUE(c.word_bigrams());
  EXPECT_EQ(c.max_epochs(), 20);
  EXPECT_DOUBLE_EQ(c.validation_fraction(), 0.1);
  v1::LinearConfig bad;
  bad.set_hash_bits(30);
  EXPECT_THAT(std::string(ResolveConfig(bad).status().message()), HasSubstr("hash_bits"));
  bad = {};
  bad.set_char_ngram_max(2);
  EXPECT_THAT(std::string(ResolveConfig(bad).status().message()), HasSubstr("char_ngram_max"));
  bad = {};
  bad.set_l2(-1);
  EXPECT_FALSE(ResolveConfig(bad).ok());
  EXPECT_EQ(c.method(), v1::LinearConfig::LOGISTIC_REGRESSION);
  EXPECT_EQ(c.weight_storage(), v1::LinearConfig::FLOAT32);
  bad = {};
  bad.set_nb_alpha(-0.5);
  EXPECT_THAT(std::string(ResolveConfig(bad).status().message()), HasSubstr("nb_alpha"));
  bad = {};
  bad.set_weight_storage(static_cast<v1::LinearConfig::WeightStorage>(9));  // from a newer client
  EXPECT_THAT(std::string(ResolveConfig(bad).status().message()), HasSubstr("weight_storage 9 is unknown"));
}

TEST(LinearWeights, StoreInFloat16AndInt8WithinTheirPrecision) {
  LinearWeights w(64, 3);
  for (size_t i = 0; i < w.w.size(); ++i) w.w[i] = std::sin(0.37 * i) * (1.0f + (i % 3));  // per-class ranges 1, 2, 3
  w.bias = {0.5f, -0.25f, 2.0f};
  for (auto storage : {v1::LinearConfig::FLOAT32, v1::LinearConfig::FLOAT16, v1::LinearConfig::INT8}) {
    const std::string bytes = w.Serialize(storage);
    auto back = LinearWeights::Parse(bytes, 64, 3, storage);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->bias, w.bias) << "the bias stays float32";
    // Scoring one feature of value 1 reads back one weight per class.
    std::vector<float> logits(3);
    double worst = 0;
    for (uint32_t f = 0; f < 64; ++f) {
      const Feature one{f, 1.0f};
      back->Logits(std::span<const Feature>(&one, 1), logits.data());
      for (size_t c = 0; c < 3; ++c) worst = std::max(worst, std::abs(logits[c] - w.bias[c] - w.w[f * 3 + c]) / (1.0 + c));
    }
    const double bound = storage == v1::LinearConfig::FLOAT32 ? 1e-6 : storage == v1::LinearConfig::FLOAT16 ? 2e-3 : 0.5 / 127 + 1e-6;
    EXPECT_LE(worst, bound) << v1::LinearConfig::WeightStorage_Name(storage);
    EXPECT_GT(bytes.size(), 0u);
    if (storage == v1::LinearConfig::INT8) {
      EXPECT_EQ(bytes.size(), 64 * 3 + 2 * 3 * sizeof(float));
      EXPECT_TRUE(back->w.empty()) << "int8 weights stay int8 in memory";
    }
    if (storage == v1::LinearConfig::FLOAT16) {
      EXPECT_EQ(bytes.size(), 64 * 3 * 2 + 3 * sizeof(float));
    }
    std::string cut = bytes;
    cut.pop_back();
    auto refused = LinearWeights::Parse(cut, 64, 3, storage);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr(WeightsFileName(storage)));
  }
}

class LinearTrainerTest : public ::testing::Test {
 protected:
  absl::StatusOr<v1::Manifest> TrainOn(const testing::SyntheticCorpus& corpus, v1::LinearConfig config = {}) {
    TrainingSet data = testing::AsTrainingSet(corpus);
    v1::TrainStart start;
    start.set_model("m");
    start.set_family(v1::LINEAR);
    config.set_hash_bits(16);
    *start.mutable_config()->mutable_linear() = config;
    TrainContext ctx;
    ctx.pool = &pool_;
    ctx.cancel = &cancel_;
    ctx.output_dir = dir_.path();
    return Train(start, data, ctx);
  }
  absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest) {
    const std::string file = WeightsFileName(manifest.linear().resolved().weight_storage());
    ModelFiles files;
    files.contents[file] = *ReadFile(dir_.path() / file);
    return LinearModel::Load(std::move(manifest), files);
  }
  double Accuracy(const Model& model, const testing::SyntheticCorpus& held_out) {
    return testing::HeldOutAccuracy(model, held_out, &pool_);
  }

  ThreadPool pool_{2};
  CancellationToken cancel_;
  testing::TempDir dir_;
};

TEST_F(LinearTrainerTest, LearnsAMultiClassCorpusAndChoosesItsL2OnTheValidationSplit) {
  auto manifest = TrainOn(testing::MakeTopicCorpus(4, 300, 1));
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  const v1::LinearState& state = manifest->linear();
  EXPECT_GT(state.resolved().l2(), 0) << "the chosen l2 is recorded";
  EXPECT_GT(state.epochs(), 0);
  EXPECT_GT(state.validation_accuracy(), 0.8);
  EXPECT_GT(state.temperature(), 0);
  EXPECT_EQ(state.calibration_examples(), 120) << "10% of 1200 held out";
  auto model = Load(*manifest);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_GT(Accuracy(**model, testing::MakeTopicCorpus(4, 100, 2)), 0.8);
  ModelInput image{"", nullptr};
  v1::Tensor tensor;
  image.tensor = &tensor;
  EXPECT_EQ((*model)->ValidateInput(image).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LinearTrainerTest, LoadingRefusesWeightsOfTheWrongSize) {
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 100, 3));
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  ModelFiles files;
  std::string bytes = *ReadFile(dir_.path() / "weights.f32");
  bytes.pop_back();
  files.contents["weights.f32"] = bytes;
  auto model = LinearModel::Load(*manifest, files);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("weights.f32"));
}

TEST_F(LinearTrainerTest, NaiveBayesChoosesItsSmoothingOnTheValidationSplit) {
  v1::LinearConfig config;
  config.set_method(v1::LinearConfig::NAIVE_BAYES);
  auto manifest = TrainOn(testing::MakeTopicCorpus(4, 300, 1), config);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  const v1::LinearState& state = manifest->linear();
  EXPECT_EQ(state.resolved().method(), v1::LinearConfig::NAIVE_BAYES);
  EXPECT_GT(state.resolved().nb_alpha(), 0) << "the chosen alpha is recorded";
  EXPECT_DOUBLE_EQ(state.resolved().l2(), 0) << "no l2 is chosen for naive Bayes";
  EXPECT_GT(state.validation_accuracy(), 0.8);
  auto model = Load(*manifest);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->execution(), "naive Bayes, float32 weights");
  EXPECT_GT(Accuracy(**model, testing::MakeTopicCorpus(4, 100, 2)), 0.8);
}

TEST_F(LinearTrainerTest, Int8WeightsServeWhatTheValidationSplitMeasured) {
  const testing::SyntheticCorpus corpus = testing::MakeTopicCorpus(4, 300, 1);
  v1::LinearConfig config;
  config.set_l2(1e-6);
  auto float_manifest = TrainOn(corpus, config);
  ASSERT_TRUE(float_manifest.ok()) << float_manifest.status();
  auto float_model = Load(*float_manifest);
  ASSERT_TRUE(float_model.ok()) << float_model.status();
  config.set_weight_storage(v1::LinearConfig::INT8);
  auto manifest = TrainOn(corpus, config);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "weights.i8"));
  auto model = Load(*manifest);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->execution(), "logistic regression, int8 weights (a scale per class)");
  const testing::SyntheticCorpus held_out = testing::MakeTopicCorpus(4, 100, 2);
  const double float_accuracy = Accuracy(**float_model, held_out);
  EXPECT_GT(float_accuracy, 0.8);
  EXPECT_NEAR(Accuracy(**model, held_out), float_accuracy, 0.03) << "int8 costs little";
  // 2^16 slots x 4 classes: one byte per weight instead of four, plus a scale and a bias per class.
  EXPECT_EQ(std::filesystem::file_size(dir_.path() / "weights.f32"), (size_t{1} << 16) * 4 * 4 + 4 * sizeof(float));
  EXPECT_EQ(std::filesystem::file_size(dir_.path() / "weights.i8"), (size_t{1} << 16) * 4 + 2 * 4 * sizeof(float));
}

TEST_F(LinearTrainerTest, StopsWhenCancelled) {
  cancel_.Cancel();
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 100, 3));
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace textclf::linear
