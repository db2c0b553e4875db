// The X-Class pipeline and trainer on a tiny random encoder: shapes, bookkeeping, files,
// serving and cancellation. (Whether it classifies well is the end-to-end test's question.)
#include "core/xclass/xclass_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/encoder/encoder.h"
#include "core/families/families.h"
#include "core/xclass/xclass_family.h"
#include "core/xclass/xclass_trainer.h"
#include "tests/core/encoder/encoder_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::xclass {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kWords = {"sports", "goal", "match", "politics", "vote", "law", "the", "rare"};

std::vector<std::string> Texts() {
  std::vector<std::string> texts;
  for (int i = 0; i < 30; ++i) {
    texts.push_back(i % 2 ? "the sports goal match goal" : "the politics vote law vote");
  }
  texts.push_back("rare");
  return texts;
}

class XClassPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    encoder_ = encoder::testing::TinyEncoder(kWords, 3);
    auto files = encoder_->Save();
    ASSERT_TRUE(files.ok());
    ASSERT_TRUE(encoder::WriteCheckpointFolder(dir_.path() / "encoder", *files).ok());
    config_.set_encoder_path((dir_.path() / "encoder").string());
    config_.set_layer(2);
    config_.set_max_length(64);
    config_.set_min_word_count(5);
    config_.set_pca_components(4);
    config_.set_device("cpu");
  }

  ::textclf::testing::TempDir dir_;
  std::unique_ptr<encoder::Encoder> encoder_;
  v1::XClassConfig config_;
};

TEST_F(XClassPipelineTest, EncodesFrequentWordsOnly) {
  int calls = 0;
  auto corpus = EncodeCorpus(*encoder_, Texts(), config_, /*with_attention=*/true, nullptr,
                             [&](double, std::string_view) { ++calls; });
  ASSERT_TRUE(corpus.ok()) << corpus.status();
  EXPECT_EQ(corpus->documents(), 31u);
  EXPECT_EQ(corpus->vocab.Find("rare"), -1) << "seen once, below min_word_count";
  EXPECT_GE(corpus->vocab.Find("goal"), 0);
  EXPECT_EQ(corpus->vocab.counts[static_cast<size_t>(corpus->vocab.Find("goal"))], 30);
  EXPECT_EQ(corpus->word_ids[0].size(), 5u);
  EXPECT_EQ(corpus->word_ids[30].size(), 0u);
  EXPECT_EQ(corpus->Contextual(0).rows(), 5);
  EXPECT_EQ(corpus->attention[0].size(), 5u);
  EXPECT_GT(calls, 0);
}

TEST_F(XClassPipelineTest, AlignsEveryDocumentAndSelectsAFractionPerClass) {
  auto corpus = EncodeCorpus(*encoder_, Texts(), config_, false, nullptr, [](double, std::string_view) {});
  ASSERT_TRUE(corpus.ok());
  auto alignment = AlignDocuments(*corpus, {"sports", "politics"}, {{"sports"}, {"politics"}}, config_, nullptr,
                                  [](double, std::string_view) {});
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  EXPECT_EQ(alignment->nearest.size(), 31u);
  EXPECT_EQ(alignment->aligned.size(), 31u);
  EXPECT_EQ(alignment->keywords[0][0], "sports");
  EXPECT_EQ(alignment->keywords[1][0], "politics");
  EXPECT_LE(alignment->pca_components, 4);
  EXPECT_LT(alignment->selected.size(), 31u);
  EXPECT_GE(alignment->selected.size(), 2u);
  for (double c : alignment->confidence) {
    EXPECT_GE(c, 0.0);
    EXPECT_LE(c, 1.0 + 1e-9);
  }
  auto missing = AlignDocuments(*corpus, {"sports", "cooking"}, {{"sports"}, {"cooking"}}, config_, nullptr,
                                [](double, std::string_view) {});
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("\"cooking\""));
}

TEST_F(XClassPipelineTest, TrainsAServableModelWithEitherFinalClassifier) {
  for (auto kind : {v1::XClassConfig::FROZEN_HEAD, v1::XClassConfig::FINE_TUNE}) {
    SCOPED_TRACE(kind);
    ThreadPool pool(1);
    CancellationToken cancel;
    TrainContext ctx;
    ctx.pool = &pool;
    ctx.cancel = &cancel;
    ctx.output_dir = dir_.path() / ("out" + std::to_string(kind));
    std::filesystem::create_directories(ctx.output_dir);
    std::set<std::string> stages;
    ctx.progress = [&](std::string_view stage, double, std::string_view) { stages.insert(std::string(stage)); };
    v1::TrainStart start;
    start.set_family(v1::XCLASS);
    *start.mutable_config()->mutable_xclass() = config_;
    start.mutable_config()->mutable_xclass()->set_final_classifier(kind);
    start.mutable_config()->mutable_xclass()->set_epochs(kind == v1::XClassConfig::FINE_TUNE ? 1 : 20);
    TrainingSet data;
    data.classes = {"sports", "politics"};
    data.texts = Texts();
    data.labels.assign(data.texts.size(), -1);
    auto manifest = XClassFamily()->train(start, data, ctx);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    for (const char* stage : {"load", "encode", "classes", "documents", "align", "select", "final", "write"}) {
      EXPECT_TRUE(stages.contains(stage)) << stage;
    }
    const v1::XClassState& state = manifest->xclass();
    EXPECT_EQ(state.resolved().final_classifier(), kind);
    EXPECT_EQ(state.classes_size(), 2);
    EXPECT_EQ(state.classes(0).keywords(0), "sports");
    EXPECT_EQ(state.classes(0).assigned() + state.classes(1).assigned(), 31);
    EXPECT_EQ(state.documents(), 31);
    EXPECT_TRUE(state.stage_seconds().contains("final"));

    ModelFiles files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(ctx.output_dir)) {
      if (entry.is_regular_file()) {
        files.contents[std::filesystem::relative(entry.path(), ctx.output_dir).string()] = *ReadFile(entry.path());
      }
    }
    EXPECT_TRUE(files.contents.contains("encoder/model.safetensors"));
    EXPECT_TRUE(files.contents.contains("head.safetensors"));
    auto model = XClassFamily()->load(*manifest, files);
    ASSERT_TRUE(model.ok()) << model.status();
    const std::vector<ModelInput> batch = {{"the sports goal"}, {"vote law"}, {""}};
    ScoreMatrix out;
    ASSERT_TRUE((*model)->Run(batch, Device{}, &out).ok());
    ASSERT_EQ(out.rows, 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(out.probability_row(i)[0] + out.probability_row(i)[1], 1.0, 1e-5);
    EXPECT_FALSE((*model)->ValidateInput(ModelInput{"", &v1::Tensor::default_instance()}).ok());
  }
}

TEST_F(XClassPipelineTest, StopsWhenCancelledAndExplainsAMissingEncoder) {
  ThreadPool pool(1);
  CancellationToken cancel;
  cancel.Cancel();
  TrainContext ctx;
  ctx.pool = &pool;
  ctx.cancel = &cancel;
  ctx.output_dir = dir_.path();
  v1::TrainStart start;
  *start.mutable_config()->mutable_xclass() = config_;
  TrainingSet data;
  data.classes = {"sports", "politics"};
  data.texts = Texts();
  EXPECT_EQ(TrainXClass(start, data, ctx).status().code(), absl::StatusCode::kCancelled);
  start.mutable_config()->mutable_xclass()->set_encoder_path("");
  start.mutable_config()->mutable_xclass()->set_encoder_model("enc");
  EXPECT_THAT(std::string(TrainXClass(start, data, ctx).status().message()), HasSubstr("encoder_path"));
  ctx.read_model_files = [](std::string name, int64_t) -> absl::StatusOr<ModelFiles> {
    return absl::NotFoundError("model " + name + " does not exist");
  };
  EXPECT_THAT(std::string(TrainXClass(start, data, ctx).status().message()), HasSubstr("enc does not exist"));
}

}  // namespace
}  // namespace textclf::xclass
