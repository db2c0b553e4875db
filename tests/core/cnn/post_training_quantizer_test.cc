// Post-training quantization of a small trained ResNet: packed files of the promised size, a
// report that matches what the stored variants compute, and refusals of what cannot be quantized.
#include "core/cnn/post_training_quantizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "core/cnn/classification_report.h"
#include "core/cnn/quantize_options.h"
#include "core/common/files.h"
#include "core/common/thread_pool.h"
#include "core/eval/calibration.h"
#include "core/families/families.h"
#include "tests/core/cnn/model_dir.h"
#include "tests/core/cnn/synthetic_images.h"
#include "tests/support/test_support.h"

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;

class PostTrainingQuantizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A ResNet-8 trained for two epochs on 16x16 synthetic images of four classes.
    TrainingSet data = testing::SyntheticImageSet(4, 50, 16, 1, 10);
    v1::TrainStart start;
    start.set_family(v1::IMAGE_CNN);
    v1::ImageCnnConfig* c = start.mutable_config()->mutable_image_cnn();
    c->set_depth(8);
    c->mutable_training()->set_epochs(2);
    c->mutable_training()->set_batch_size(32);
    c->mutable_training()->set_learning_rate(0.05);
    TrainContext ctx;
    ctx.pool = &pool_;
    ctx.cancel = &cancel_;
    ctx.output_dir = float_dir_.path();
    auto manifest = (*FindFamily(v1::IMAGE_CNN))->train(start, data, ctx);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    manifest->set_name("img");
    manifest->set_version(1);
    v1::FileEntry* entry = manifest->add_files();
    entry->set_path("weights.tcw");
    entry->set_size_bytes(std::filesystem::file_size(float_dir_.path() / "weights.tcw"));
    auto model = testing::LoadModelFromDir(*manifest, float_dir_.path());
    ASSERT_TRUE(model.ok()) << model.status();
    float_model_ = std::move(*model);
    for (int i = 0; i < 80; ++i) {
      calibration_images_.push_back(testing::SyntheticImage(i % 4, 16, 7000 + i));
      calibration_labels_.push_back(i % 4);
      eval_images_.push_back(testing::SyntheticImage(i % 4, 16, 9000 + i));
      eval_labels_.push_back(i % 4);
    }
  }

  QuantizationData Data() const {
    QuantizationData d;
    for (const auto& t : calibration_images_) d.calibration.push_back(ModelInput{{}, &t});
    d.calibration_labels = calibration_labels_;
    for (const auto& t : eval_images_) d.eval.push_back(ModelInput{{}, &t});
    d.eval_labels = eval_labels_;
    return d;
  }

  absl::StatusOr<QuantizationResult> Quantize(const Model& model, v1::QuantizeStart start, const QuantizationData& data) {
    start.set_model(model.name());
    auto resolved = ResolveQuantizeStart(start);
    if (!resolved.ok()) return resolved.status();
    QuantizationContext ctx;
    ctx.cancel = &cancel_;
    ctx.new_output_dir = [this]() -> absl::StatusOr<std::filesystem::path> {
      const auto dir = out_.path() / std::to_string(dirs_++);
      std::filesystem::create_directories(dir);
      return dir;
    };
    return QuantizeCnn(model, *resolved, data, ctx);
  }

  ThreadPool pool_{2};
  CancellationToken cancel_;
  testing::TempDir float_dir_, out_;
  int dirs_ = 0;
  std::unique_ptr<Model> float_model_;
  std::vector<v1::Tensor> calibration_images_, eval_images_;
  std::vector<int> calibration_labels_, eval_labels_;
};

TEST_F(PostTrainingQuantizerTest, SweepStoresPackedWeightsAndReportsWhatTheStoredModelsCompute) {
  v1::QuantizeStart start;
  for (int bits : {8, 4, 2}) start.add_weight_bits(bits);
  start.set_sweep(true);
  const QuantizationData data = Data();
  auto result = Quantize(*float_model_, start, data);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->variants.size(), 3u);
  const v1::QuantizeReport& report = result->report;
  EXPECT_EQ(report.dataset(), "eval");
  EXPECT_EQ(report.eval_examples(), 80);
  EXPECT_GE(report.float_model().top1(), 0.9);
  ASSERT_EQ(report.variants_size(), 3);
  EXPECT_EQ(report.variants(0).label(), "W8A8");
  EXPECT_LE(report.variants(0).file_fraction(), 0.30);
  EXPECT_LE(report.variants(1).file_fraction(), 0.16);
  EXPECT_LT(report.variants(2).file_fraction(), report.variants(1).file_fraction());
  EXPECT_NEAR(report.variants(0).top1(), report.float_model().top1(), 0.05);

  for (size_t v = 0; v < 3; ++v) {
    const QuantizedVariant& variant = result->variants[v];
    const v1::Manifest& m = variant.manifest;
    ASSERT_TRUE(m.cnn().has_quantization());
    EXPECT_TRUE(m.cnn().quantization().batch_norm_folded());
    // Layers are stored at their bit-widths: first and last at 8, the rest at the variant's.
    for (const v1::CnnTensorInfo& t : m.cnn().tensors()) {
      if (t.name() == "conv1.weight" || t.name() == "fc.weight") {
        EXPECT_EQ(t.bits(), 8) << t.name();
      } else if (t.name().ends_with(".weight")) {
        EXPECT_EQ(t.bits(), variant.weight_bits) << t.name();
        EXPECT_TRUE(t.per_channel()) << t.name();
      } else {
        EXPECT_EQ(t.bits(), 32) << t.name();  // biases stay float
      }
      EXPECT_EQ(t.name().find("bn"), std::string::npos) << "batch norms are folded: " << t.name();
    }
    // The input of the network may be negative (normalised), a post-ReLU input may not.
    const auto& sites = m.cnn().quantization().activations();
    ASSERT_GT(sites.size(), 3);
    EXPECT_EQ(sites[0].site(), "conv1");
    EXPECT_FALSE(sites[0].is_unsigned());
    EXPECT_EQ(sites[1].site(), "layer1.0.conv1");
    EXPECT_TRUE(sites[1].is_unsigned());

    // The stored variant computes exactly what the report says.
    auto loaded = testing::LoadModelFromDir(m, variant.dir);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ScoreMatrix out;
    ASSERT_TRUE((*loaded)->Run(data.eval, Device{}, &out).ok());
    std::vector<double> confidence;
    std::vector<uint8_t> correct;
    for (size_t i = 0; i < data.eval.size(); ++i) {
      const size_t best = out.Argmax(i);
      confidence.push_back(out.probability_row(i)[best]);
      correct.push_back(static_cast<int>(best) == data.eval_labels[i] ? 1 : 0);
    }
    const double accuracy = std::accumulate(correct.begin(), correct.end(), 0.0) / correct.size();
    EXPECT_DOUBLE_EQ(accuracy, report.variants(static_cast<int>(v)).top1());
    EXPECT_NEAR(eval::ComputeCalibration(confidence, correct, kCalibrationBins).ece,
                report.variants(static_cast<int>(v)).ece_after_temperature(), 1e-6);
  }
}

TEST_F(PostTrainingQuantizerTest, PerTensorFloatActivationsAndMinMaxAreHonoured) {
  v1::QuantizeStart start;
  start.add_weight_bits(6);
  start.set_granularity(v1::QuantizeStart::PER_TENSOR);
  start.set_activation_bits(32);
  start.set_first_last_bits(-1);
  start.set_temperature_scaling(false);
  QuantizationData data = Data();
  data.eval.clear();
  data.eval_labels.clear();
  auto result = Quantize(*float_model_, start, data);
  ASSERT_TRUE(result.ok()) << result.status();
  const v1::Manifest& m = result->variants[0].manifest;
  EXPECT_EQ(m.cnn().quantization().activations_size(), 0);
  EXPECT_DOUBLE_EQ(m.cnn().temperature(), 1.0);
  for (const v1::CnnTensorInfo& t : m.cnn().tensors()) {
    if (t.name().ends_with(".weight")) {
      EXPECT_EQ(t.bits(), 6) << t.name();
      EXPECT_FALSE(t.per_channel()) << t.name();
    }
  }
  EXPECT_EQ(result->report.dataset(), "calibration");
  EXPECT_EQ(result->report.variants(0).label(), "W6A32");
}

TEST_F(PostTrainingQuantizerTest, RefusesQuantizedSourcesEmptyCalibrationAndOtherFamilies) {
  v1::QuantizeStart start;
  auto first = Quantize(*float_model_, start, Data());
  ASSERT_TRUE(first.ok()) << first.status();
  // As the registry publishes it: named, the next version of the float model.
  v1::Manifest published = first->variants[0].manifest;
  published.set_name("img");
  published.set_version(2);
  auto quantized = testing::LoadModelFromDir(published, first->variants[0].dir);
  ASSERT_TRUE(quantized.ok());
  auto again = Quantize(**quantized, start, Data());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("img version 2 is already quantized (W8A8)"));
  EXPECT_THAT(again.status().message(), HasSubstr("quantize its float source, img version 1"));

  QuantizationData empty;
  auto none = Quantize(*float_model_, start, empty);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("CALIBRATION"));

  struct NotACnn : Model {
    NotACnn() : Model([] { v1::Manifest m; m.set_name("z"); m.set_family(v1::ZEST); return m; }()) {}
    absl::Status ValidateInput(const ModelInput&) const override { return absl::OkStatus(); }
    absl::Status Run(std::span<const ModelInput>, const Device&, ScoreMatrix*) const override { return absl::OkStatus(); }
  } zest;
  auto other = Quantize(zest, start, Data());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.status().message(), HasSubstr("CNN families"));
}

TEST_F(PostTrainingQuantizerTest, ACorruptQuantizedFileIsRefusedOnLoad) {
  auto result = Quantize(*float_model_, v1::QuantizeStart(), Data());
  ASSERT_TRUE(result.ok()) << result.status();
  const auto path = result->variants[0].dir / "weights.tcw";
  std::string bytes = *ReadFile(path);
  ASSERT_TRUE(WriteFileDurably(path, bytes.substr(0, bytes.size() / 2)).ok());
  auto loaded = testing::LoadModelFromDir(result->variants[0].manifest, result->variants[0].dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr("weights.tcw"));
}

TEST(QuantizeOptions, DefaultsAndBadValues) {
  v1::QuantizeStart start;
  start.set_model("m");
  auto resolved = ResolveQuantizeStart(start);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->target_model(), "m");
  ASSERT_EQ(resolved->weight_bits_size(), 1);
  EXPECT_EQ(resolved->weight_bits(0), 8);
  EXPECT_EQ(resolved->activation_bits(), 8);
  EXPECT_EQ(resolved->first_last_bits(), 8);
  EXPECT_DOUBLE_EQ(resolved->percentile(), 99.99);
  EXPECT_TRUE(resolved->temperature_scaling());
  start.add_weight_bits(9);
  EXPECT_THAT(ResolveQuantizeStart(start).status().message(), HasSubstr("between 2 and 8, got 9"));
  start.clear_weight_bits();
  start.add_weight_bits(8);
  start.add_weight_bits(4);
  EXPECT_THAT(ResolveQuantizeStart(start).status().message(), HasSubstr("set sweep"));
  start.set_sweep(true);
  start.set_activation_bits(16);
  EXPECT_THAT(ResolveQuantizeStart(start).status().message(), HasSubstr("activation_bits"));
}

}  // namespace
}  // namespace textclf::cnn
