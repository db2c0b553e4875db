#include "core/zest/zest_trainer.h"

#include <gtest/gtest.h>

#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/zest/zest_model.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/test_support.h"

namespace textclf::zest {
namespace {

class ZestTrainerTest : public ::testing::Test {
 protected:
  absl::StatusOr<v1::Manifest> TrainOn(const testing::SyntheticCorpus& corpus, v1::ZestConfig config = {}) {
    TrainingSet data = testing::AsTrainingSet(corpus);
    v1::TrainStart start;
    start.set_model("m");
    start.set_family(v1::ZEST);
    *start.mutable_config()->mutable_zest() = config;
    TrainContext ctx;
    ctx.pool = &pool_;
    ctx.cancel = &cancel_;
    ctx.output_dir = dir_.path();
    ctx.progress = [this](std::string_view stage, double, std::string_view) { stages_.emplace_back(stage); };
    return Train(start, data, ctx);
  }

  absl::StatusOr<std::unique_ptr<Model>> Load(v1::Manifest manifest) {
    ModelFiles files;
    for (const auto& cls : manifest.zest().classes()) {
      for (const auto& d : cls.dictionaries()) files.contents[d.file()] = *ReadFile(dir_.path() / d.file());
    }
    return ZestModel::Load(std::move(manifest), files);
  }

  double Accuracy(const Model& model, const testing::SyntheticCorpus& held_out) {
    return testing::HeldOutAccuracy(model, held_out, &pool_);
  }

  ThreadPool pool_{2};
  CancellationToken cancel_;
  testing::TempDir dir_;
  std::vector<std::string> stages_;
};

TEST_F(ZestTrainerTest, TrainsABinaryModelThatSeparatesHeldOutTexts) {
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 600, 1));
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  const v1::ZestState& state = manifest->zest();
  EXPECT_EQ(state.resolved().mode(), v1::ZestConfig::BINARY);
  ASSERT_EQ(state.classes_size(), 2);
  // Both classes share the positive class's plan.
  EXPECT_EQ(state.classes(0).dictionaries_size(), state.classes(1).dictionaries_size());
  EXPECT_EQ(state.classes(0).dictionaries(0).size_bytes() > 0, true);
  EXPECT_FALSE(state.allowed_characters().empty());
  EXPECT_GT(state.calibration_examples(), 0);  // 1200 examples: a hold-out fits the temperature
  auto model = Load(*manifest);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_GE(Accuracy(**model, testing::MakeTopicCorpus(2, 100, 77)), 0.95);
  EXPECT_NE(std::find(stages_.begin(), stages_.end(), "dictionaries"), stages_.end());
}

TEST_F(ZestTrainerTest, TrainsAMulticlassModel) {
  auto manifest = TrainOn(testing::MakeTopicCorpus(4, 300, 2));
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->zest().resolved().mode(), v1::ZestConfig::MULTICLASS);
  auto model = Load(*manifest);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_GE(Accuracy(**model, testing::MakeTopicCorpus(4, 50, 78)), 0.9);
}

TEST_F(ZestTrainerTest, DynamicShrinkingBuildsDecreasingSizesByTheFactor) {
  v1::ZestConfig config;
  config.set_dynamic_shrinking(true);
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 800, 3), config);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  for (const auto& cls : manifest->zest().classes()) {
    ASSERT_GE(cls.dictionaries_size(), 1);
    for (int j = 1; j < cls.dictionaries_size(); ++j) {
      EXPECT_LT(cls.dictionaries(j).size_bytes(), cls.dictionaries(j - 1).size_bytes());
    }
  }
}

TEST_F(ZestTrainerTest, WordHashingModelsClassifyToo) {
  v1::ZestConfig config;
  config.set_word_hashing(true);
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 400, 4), config);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  auto model = Load(*manifest);
  ASSERT_TRUE(model.ok());
  EXPECT_GE(Accuracy(**model, testing::MakeTopicCorpus(2, 50, 79)), 0.95);
}

TEST_F(ZestTrainerTest, TinyClassesGetRawContentDictionaries) {
  testing::SyntheticCorpus tiny = testing::MakeTopicCorpus(2, 3, 5);
  auto manifest = TrainOn(tiny);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_TRUE(manifest->training().notes().contains("raw_content_dictionaries"));
  EXPECT_TRUE(Load(*manifest).ok());
}

TEST_F(ZestTrainerTest, RejectsAClassWithoutExamples) {
  testing::SyntheticCorpus corpus = testing::MakeTopicCorpus(2, 10, 6);
  corpus.classes.push_back("empty");
  auto manifest = TrainOn(corpus);
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(manifest.status().message().find("\"empty\""), std::string_view::npos);
}

TEST_F(ZestTrainerTest, RejectsAClassWhoseTextsAreAllFilteredAway) {
  testing::SyntheticCorpus corpus = testing::MakeTopicCorpus(2, 50, 6);
  corpus.classes.push_back("symbols");
  corpus.texts.push_back("@@@ ~~~");
  corpus.labels.push_back(2);
  auto manifest = TrainOn(corpus);
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(manifest.status().message().find("symbols"), std::string_view::npos);
}

TEST_F(ZestTrainerTest, StopsWhenCancelled) {
  cancel_.Cancel();
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 100, 7));
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(ZestTrainerTest, LoadingRejectsADictionaryOfTheWrongSize) {
  auto manifest = TrainOn(testing::MakeTopicCorpus(2, 200, 8));
  ASSERT_TRUE(manifest.ok());
  ModelFiles files;
  for (const auto& cls : manifest->zest().classes()) {
    for (const auto& d : cls.dictionaries()) files.contents[d.file()] = *ReadFile(dir_.path() / d.file());
  }
  files.contents.begin()->second.pop_back();
  auto model = ZestModel::Load(*manifest, files);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(model.status().message().find(files.contents.begin()->first), std::string_view::npos);
}

}  // namespace
}  // namespace textclf::zest
