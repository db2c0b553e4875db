// The LINEAR family on its own: features, training with a validation split, the temperature, and
// loading what was written (and refusing a weights file of the wrong size).
#include <gmock/gmock.h>
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
    ModelFiles files;
    files.contents[kWeightsFile] = *ReadFile(dir_.path() / kWeightsFile);
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
  std::string bytes = *ReadFile(dir_.path() / kWeightsFile);
  bytes.pop_back();
  files.contents[kWeightsFile] = bytes;
  auto model = LinearModel::Load(*manifest, files);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("weights.f32"));
}

TEST_F(LinearTrainerTest, StopsWhenCancelled) {
  cancel_.Cancel();
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 100, 3));
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace textclf::linear
