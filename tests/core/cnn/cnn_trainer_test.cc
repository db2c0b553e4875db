// Training both CNN families through their descriptors: they learn, report progress per epoch,
// stop early, are reproducible for a seed, and refuse bad input by example.
#include "core/cnn/cnn_trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/families/families.h"
#include "tests/core/cnn/synthetic_images.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/test_support.h"

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Model>> CnnModelLoad(const v1::Manifest& manifest, const ModelFiles& files) {
  auto family = FindFamily(manifest.family());
  if (!family.ok()) return family.status();
  return (*family)->load(manifest, files);
}

struct Trained {
  absl::StatusOr<v1::Manifest> manifest = absl::UnknownError("not run");
  std::vector<std::string> progress;
  ModelFiles files;
};

class CnnTrainerTest : public ::testing::Test {
 protected:
  Trained Train(v1::Family family, const v1::ModelConfig& config, const TrainingSet& data, bool cancelled = false) {
    Trained out;
    auto ops = FindFamily(family);
    if (!ops.ok()) {
      out.manifest = ops.status();
      return out;
    }
    auto dir = std::make_unique<testing::TempDir>();
    TrainContext ctx;
    ctx.pool = &pool_;
    CancellationToken cancel;
    if (cancelled) cancel.Cancel();
    ctx.cancel = &cancel;
    ctx.output_dir = dir->path();
    ctx.progress = [&](std::string_view stage, double, std::string_view message) {
      out.progress.push_back(absl::StrCat(std::string(stage), ": ", std::string(message)));
    };
    v1::TrainStart start;
    start.set_family(family);
    *start.mutable_config() = config;
    out.manifest = (*ops)->train(start, data, ctx);
    if (out.manifest.ok()) {
      out.manifest->set_name("m");
      for (const auto& entry : std::filesystem::directory_iterator(dir->path())) {
        out.files.contents[entry.path().filename().string()] = *ReadFile(entry.path());
      }
    }
    dirs_.push_back(std::move(dir));
    return out;
  }

  static double Accuracy(const Model& model, const std::vector<ModelInput>& inputs, const std::vector<int>& labels) {
    ScoreMatrix out;
    EXPECT_TRUE(model.Run(inputs, Device{}, &out).ok());
    int correct = 0;
    for (size_t i = 0; i < inputs.size(); ++i) correct += static_cast<int>(out.Argmax(i)) == labels[i] ? 1 : 0;
    return static_cast<double>(correct) / static_cast<double>(inputs.size());
  }

  ThreadPool pool_{2};
  std::vector<std::unique_ptr<testing::TempDir>> dirs_;
};

v1::ModelConfig SmallTextCnn(uint64_t seed) {
  v1::ModelConfig config;
  v1::TextCnnConfig* c = config.mutable_text_cnn();
  c->set_embedding_dim(16);
  c->set_feature_maps(8);
  c->set_min_count(1);
  c->mutable_training()->set_epochs(3);
  c->mutable_training()->set_batch_size(16);
  c->mutable_training()->set_seed(seed);
  return config;
}

TEST_F(CnnTrainerTest, TextCnnLearnsTopicsAndReportsEveryEpoch) {
  const auto corpus = testing::MakeTopicCorpus(3, 80, 1);
  TrainingSet data = testing::AsTrainingSet(corpus);
  Trained t = Train(v1::TEXT_CNN, SmallTextCnn(5), data);
  ASSERT_TRUE(t.manifest.ok()) << t.manifest.status();
  const v1::CnnState& state = t.manifest->cnn();
  EXPECT_EQ(state.epochs_size(), 3);
  EXPECT_GT(state.vocabulary_size(), 10);
  int epoch_messages = 0;
  for (const auto& p : t.progress) {
    if (p.starts_with("epoch: epoch")) {
      ++epoch_messages;
      EXPECT_THAT(p, HasSubstr("loss"));
      EXPECT_THAT(p, HasSubstr("train accuracy"));
      EXPECT_THAT(p, HasSubstr("validation accuracy"));
    }
  }
  EXPECT_EQ(epoch_messages, 3);
  auto model = CnnModelLoad(*t.manifest, t.files);
  ASSERT_TRUE(model.ok()) << model.status();
  const auto held_out = testing::MakeTopicCorpus(3, 30, 99);
  std::vector<ModelInput> inputs;
  for (const auto& text : held_out.texts) inputs.push_back(ModelInput{text, nullptr});
  EXPECT_GE(Accuracy(**model, inputs, held_out.labels), 0.9);
}

TEST_F(CnnTrainerTest, TheSameSeedGivesTheSameModelAndAnotherSeedAnother) {
  const auto corpus = testing::MakeTopicCorpus(2, 40, 3);
  TrainingSet data = testing::AsTrainingSet(corpus);
  Trained a = Train(v1::TEXT_CNN, SmallTextCnn(11), data);
  Trained b = Train(v1::TEXT_CNN, SmallTextCnn(11), data);
  Trained c = Train(v1::TEXT_CNN, SmallTextCnn(12), data);
  ASSERT_TRUE(a.manifest.ok() && b.manifest.ok() && c.manifest.ok());
  EXPECT_EQ(a.files.contents.at("weights.tcw"), b.files.contents.at("weights.tcw"));
  EXPECT_NE(a.files.contents.at("weights.tcw"), c.files.contents.at("weights.tcw"));
}

v1::ModelConfig SmallResNet(int epochs, int patience) {
  v1::ModelConfig config;
  v1::ImageCnnConfig* c = config.mutable_image_cnn();
  c->set_depth(8);
  c->mutable_training()->set_epochs(epochs);
  c->mutable_training()->set_batch_size(32);
  c->mutable_training()->set_patience(patience);
  c->mutable_training()->set_learning_rate(0.05);
  return config;
}

TEST_F(CnnTrainerTest, ResNetLearnsImagesAndStoresItsNormalisation) {
  TrainingSet data = testing::SyntheticImageSet(3, 60, 8, 1, 10);
  Trained t = Train(v1::IMAGE_CNN, SmallResNet(3, 5), data);
  ASSERT_TRUE(t.manifest.ok()) << t.manifest.status();
  const v1::ImageCnnConfig& c = t.manifest->config().image_cnn();
  EXPECT_EQ(c.channels(), 1);
  EXPECT_EQ(c.height(), 8);
  ASSERT_EQ(c.mean_size(), 1);
  EXPECT_GT(c.mean(0), 0.1f);  // measured on the training images
  EXPECT_GT(c.std(0), 0.1f);
  auto model = CnnModelLoad(*t.manifest, t.files);
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<v1::Tensor> images;
  std::vector<int> labels;
  for (int i = 0; i < 30; ++i) {
    images.push_back(testing::SyntheticImage(i % 3, 8, 5000 + i));
    labels.push_back(i % 3);
  }
  std::vector<ModelInput> inputs;
  for (const auto& img : images) inputs.push_back(ModelInput{{}, &img});
  EXPECT_GE(Accuracy(**model, inputs, labels), 0.9);
  // Wrong geometry and dtype are refused with what to send.
  v1::Tensor wrong = testing::SyntheticImage(0, 9, 1);
  EXPECT_THAT((*model)->ValidateInput(ModelInput{{}, &wrong}).message(), HasSubstr("this model takes 1x8x8"));
  v1::Tensor no_dtype = images[0];
  no_dtype.set_dtype(v1::DTYPE_UNSPECIFIED);
  EXPECT_THAT((*model)->ValidateInput(ModelInput{{}, &no_dtype}).message(), HasSubstr("UINT8"));
  EXPECT_THAT((*model)->ValidateInput(ModelInput{"text", nullptr}).message(), HasSubstr("tensors, not texts"));
}

TEST_F(CnnTrainerTest, EarlyStoppingKeepsTheBestEpoch) {
  // A task learned at once: validation accuracy cannot improve after it is perfect.
  TrainingSet data = testing::SyntheticImageSet(2, 40, 8, 2, 10);
  Trained t = Train(v1::IMAGE_CNN, SmallResNet(12, 1), data);
  ASSERT_TRUE(t.manifest.ok()) << t.manifest.status();
  const v1::CnnState& state = t.manifest->cnn();
  EXPECT_LT(state.epochs_size(), 12);
  EXPECT_GE(state.best_epoch(), 1);
  EXPECT_LT(state.best_epoch(), state.epochs_size() + 1);
  bool stopped = false;
  for (const auto& p : t.progress) stopped |= p.find("early stop") != std::string::npos;
  EXPECT_TRUE(stopped);
}

TEST_F(CnnTrainerTest, MixedImageSizesAreRefusedByExample) {
  TrainingSet data = testing::SyntheticImageSet(2, 3, 8, 3);
  data.tensors[3] = testing::SyntheticImage(1, 10, 3);
  Trained t = Train(v1::IMAGE_CNN, SmallResNet(1, 1), data);
  ASSERT_FALSE(t.manifest.ok());
  EXPECT_EQ(t.manifest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.manifest.status().message(), HasSubstr("training example 4"));
}

TEST_F(CnnTrainerTest, BadConfigAndCancellationAreRefused) {
  TrainingSet data = testing::SyntheticImageSet(2, 3, 8, 3);
  v1::ModelConfig config = SmallResNet(1, 1);
  config.mutable_image_cnn()->set_depth(10);
  Trained bad = Train(v1::IMAGE_CNN, config, data);
  EXPECT_THAT(bad.manifest.status().message(), HasSubstr("6n + 2"));
  Trained cancelled = Train(v1::IMAGE_CNN, SmallResNet(1, 1), data, /*cancelled=*/true);
  EXPECT_EQ(cancelled.manifest.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace textclf::cnn
