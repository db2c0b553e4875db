// Quantized CNNs served on int8 kernels: both families compute what the simulated network (the
// reference the report used to be computed with) computes, every weight width from 8 down to 3
// bits runs on them, and versions they cannot run are served by the simulation, saying why.
#include "core/cnn/int8_network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "core/cnn/cnn_model.h"
#include "core/cnn/post_training_quantizer.h"
#include "core/cnn/quantize_options.h"
#include "core/cnn/quantized_engine.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/common/thread_pool.h"
#include "core/families/families.h"
#include "tests/core/cnn/model_dir.h"
#include "tests/core/cnn/synthetic_images.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/test_support.h"

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;

// How often the served (int8) and simulated logits pick the same class, and the top-1 of each.
struct Agreement {
  double same_label = 0, int8_top1 = 0, simulated_top1 = 0;
};

Agreement Compare(const CnnModel& model, std::span<const ModelInput> inputs, std::span<const int> labels) {
  auto served = model.Logits(inputs, Device{});
  EXPECT_TRUE(served.ok()) << served.status();
  torch::InferenceMode inference;
  const torch::Tensor simulated = model.Forward(model.EncodeBatch(inputs), nullptr).argmax(1);
  const torch::Tensor int8 =
      torch::from_blob(served->data(), {static_cast<int64_t>(inputs.size()), static_cast<int64_t>(model.num_classes())})
          .argmax(1);
  Agreement a;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int64_t s = simulated[static_cast<int64_t>(i)].item<int64_t>();
    const int64_t q = int8[static_cast<int64_t>(i)].item<int64_t>();
    a.same_label += s == q ? 1 : 0;
    a.simulated_top1 += s == labels[i] ? 1 : 0;
    a.int8_top1 += q == labels[i] ? 1 : 0;
  }
  const double n = static_cast<double>(inputs.size());
  return {a.same_label / n, a.int8_top1 / n, a.simulated_top1 / n};
}

// Worker threads share one loaded version: concurrent batches get what a lone one gets.
void ExpectConcurrentBatchesAgree(const CnnModel& model, std::span<const ModelInput> inputs) {
  const auto reference = model.Logits(inputs, Device{});
  ASSERT_TRUE(reference.ok());
  std::atomic<int> differing{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (int round = 0; round < 10; ++round) {
        auto again = model.Logits(inputs, Device{});
        if (!again.ok() || *again != *reference) ++differing;
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(differing.load(), 0);
}

class Int8NetworkTest : public ::testing::Test {
 protected:
  std::unique_ptr<Model> TrainFloat(const v1::TrainStart& start, const TrainingSet& data) {
    TrainContext ctx;
    ctx.pool = &pool_;
    ctx.cancel = &cancel_;
    ctx.output_dir = float_dir_.path();
    auto manifest = (*FindFamily(start.family()))->train(start, data, ctx);
    EXPECT_TRUE(manifest.ok()) << manifest.status();
    if (!manifest.ok()) return nullptr;
    manifest->set_name("m");
    manifest->set_version(1);
    auto model = testing::LoadModelFromDir(*manifest, float_dir_.path());
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? std::move(*model) : nullptr;
  }

  // Every variant of a sweep over `bits` (A8), loaded back as the registry would serve it.
  std::vector<std::unique_ptr<Model>> Quantize(const Model& source, std::vector<int> bits, const QuantizationData& data) {
    v1::QuantizeStart start;
    start.set_model(source.name());
    for (int b : bits) start.add_weight_bits(b);
    start.set_sweep(bits.size() > 1);
    auto resolved = ResolveQuantizeStart(start);
    EXPECT_TRUE(resolved.ok()) << resolved.status();
    QuantizationContext ctx;
    ctx.cancel = &cancel_;
    ctx.new_output_dir = [this]() -> absl::StatusOr<std::filesystem::path> {
      const auto dir = out_.path() / std::to_string(dirs_++);
      std::filesystem::create_directories(dir);
      return dir;
    };
    auto result = QuantizeCnn(source, *resolved, data, ctx);
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<std::unique_ptr<Model>> variants;
    if (!result.ok()) return variants;
    report_ = result->report;
    for (const QuantizedVariant& v : result->variants) {
      auto loaded = testing::LoadModelFromDir(v.manifest, v.dir);
      EXPECT_TRUE(loaded.ok()) << loaded.status();
      if (loaded.ok()) variants.push_back(std::move(*loaded));
      dirs_of_.push_back(v.dir);
      manifests_.push_back(v.manifest);
    }
    return variants;
  }

  ThreadPool pool_{2};
  CancellationToken cancel_;
  testing::TempDir float_dir_, out_;
  int dirs_ = 0;
  v1::QuantizeReport report_;
  std::vector<std::filesystem::path> dirs_of_;
  std::vector<v1::Manifest> manifests_;
};

TEST_F(Int8NetworkTest, TheEngineIsOneOfLibtorchsQuantizedEngines) {
  EXPECT_THAT(QuantizedEngine(), ::testing::AnyOf("onednn", "qnnpack"));
  // Asked for by name (the QNNPACK run of these tests in CMakeLists.txt), the engine is that one.
  if (const char* wanted = std::getenv("TEXTCLF_QUANTIZED_ENGINE")) {
    EXPECT_EQ(QuantizedEngine(), wanted);
  }
}

TEST_F(Int8NetworkTest, ResNetRunsOnInt8KernelsAndAgreesWithTheSimulation) {
  v1::TrainStart start;
  start.set_family(v1::IMAGE_CNN);
  v1::ImageCnnConfig* c = start.mutable_config()->mutable_image_cnn();
  c->set_depth(8);
  c->mutable_training()->set_epochs(2);
  c->mutable_training()->set_batch_size(32);
  c->mutable_training()->set_learning_rate(0.05);
  auto float_model = TrainFloat(start, testing::SyntheticImageSet(4, 50, 16, 1, 10));
  ASSERT_NE(float_model, nullptr);

  std::vector<v1::Tensor> images;
  QuantizationData data;
  std::vector<int> labels;
  for (int i = 0; i < 480; ++i) images.push_back(testing::SyntheticImage(i % 4, 16, 7000 + i));
  for (int i = 0; i < 480; ++i) {
    (i < 80 ? data.calibration : data.eval).push_back(ModelInput{{}, &images[static_cast<size_t>(i)]});
    (i < 80 ? data.calibration_labels : data.eval_labels).push_back(i % 4);
  }
  auto variants = Quantize(*float_model, {8, 6, 4, 3}, data);
  ASSERT_EQ(variants.size(), 4u);
  for (size_t v = 0; v < variants.size(); ++v) {
    const auto& model = static_cast<const CnnModel&>(*variants[v]);
    SCOPED_TRACE(report_.variants(static_cast<int>(v)).label());
    ASSERT_TRUE(model.runs_int8()) << model.execution();
    EXPECT_THAT(model.execution(), HasSubstr("int8 kernels (" + QuantizedEngine() + ") on CPU"));
    const Agreement a = Compare(model, data.eval, data.eval_labels);
    EXPECT_GE(a.same_label, 0.99);
    EXPECT_NEAR(a.int8_top1, a.simulated_top1, 0.01);
    // The report evaluated what is served.
    EXPECT_DOUBLE_EQ(a.int8_top1, report_.variants(static_cast<int>(v)).top1());
    if (v == 0) ExpectConcurrentBatchesAgree(model, std::span<const ModelInput>(data.eval).subspan(0, 64));
  }
  // Both residual operands and the pooling input have calibrated ranges.
  std::set<std::string> sites;
  for (const auto& s : manifests_[0].cnn().quantization().activations()) sites.insert(s.site());
  EXPECT_TRUE(sites.contains("layer1.0.residual"));
  EXPECT_TRUE(sites.contains("layer2.0.shortcut"));
  EXPECT_TRUE(sites.contains("avgpool"));
  EXPECT_EQ(static_cast<const CnnModel&>(*float_model).execution(), "float");

  // A version quantized before int8 execution (no ranges for the residual sums) is still served,
  // by the simulation, and says why.
  v1::Manifest old = manifests_[0];
  auto* sites_of_old = old.mutable_cnn()->mutable_quantization()->mutable_activations();
  for (int i = sites_of_old->size() - 1; i >= 0; --i) {
    if (sites_of_old->Get(i).site() == "avgpool") sites_of_old->DeleteSubrange(i, 1);
  }
  auto simulated = testing::LoadModelFromDir(old, dirs_of_[0]);
  ASSERT_TRUE(simulated.ok()) << simulated.status();
  const auto& sim = static_cast<const CnnModel&>(**simulated);
  EXPECT_FALSE(sim.runs_int8());
  EXPECT_THAT(sim.execution(), HasSubstr("simulated int8: no calibrated range for avgpool"));
  ScoreMatrix out;
  EXPECT_TRUE(sim.Run(data.eval, Device{}, &out).ok());
}

TEST_F(Int8NetworkTest, TextCnnRunsOnInt8KernelsAndAgreesWithTheSimulation) {
  const auto corpus = testing::MakeTopicCorpus(3, 80, 1);
  TrainingSet train = testing::AsTrainingSet(corpus);
  v1::TrainStart start;
  start.set_family(v1::TEXT_CNN);
  v1::TextCnnConfig* c = start.mutable_config()->mutable_text_cnn();
  c->set_embedding_dim(16);
  c->set_feature_maps(8);
  c->set_min_count(1);
  c->mutable_training()->set_epochs(3);
  c->mutable_training()->set_batch_size(16);
  auto float_model = TrainFloat(start, train);
  ASSERT_NE(float_model, nullptr);

  const auto held_out = testing::MakeTopicCorpus(3, 150, 99);
  QuantizationData data;
  for (size_t i = 0; i < held_out.texts.size(); ++i) {
    (i < 60 ? data.calibration : data.eval).push_back(ModelInput{held_out.texts[i], nullptr});
    (i < 60 ? data.calibration_labels : data.eval_labels).push_back(held_out.labels[i]);
  }
  auto variants = Quantize(*float_model, {8, 4}, data);
  ASSERT_EQ(variants.size(), 2u);
  for (size_t v = 0; v < variants.size(); ++v) {
    const auto& model = static_cast<const CnnModel&>(*variants[v]);
    SCOPED_TRACE(report_.variants(static_cast<int>(v)).label());
    ASSERT_TRUE(model.runs_int8()) << model.execution();
    const Agreement a = Compare(model, data.eval, data.eval_labels);
    EXPECT_GE(a.same_label, 0.99);
    EXPECT_NEAR(a.int8_top1, a.simulated_top1, 0.01);
    EXPECT_DOUBLE_EQ(a.int8_top1, report_.variants(static_cast<int>(v)).top1());
    ExpectConcurrentBatchesAgree(model, data.eval);
    // A text scores the same alone as in a batch padded to a longer one.
    auto alone = model.Logits(std::span<const ModelInput>(data.eval).subspan(0, 1), Device{});
    auto batched = model.Logits(data.eval, Device{});
    ASSERT_TRUE(alone.ok() && batched.ok());
    for (size_t k = 0; k < model.num_classes(); ++k) EXPECT_NEAR((*alone)[k], (*batched)[k], 1e-4);
  }
}

TEST_F(Int8NetworkTest, FloatActivationsAreServedOnFloatKernels) {
  v1::TrainStart start;
  start.set_family(v1::IMAGE_CNN);
  v1::ImageCnnConfig* c = start.mutable_config()->mutable_image_cnn();
  c->set_depth(8);
  c->mutable_training()->set_epochs(1);
  auto float_model = TrainFloat(start, testing::SyntheticImageSet(2, 20, 8, 1, 10));
  ASSERT_NE(float_model, nullptr);
  std::vector<v1::Tensor> images;
  for (int i = 0; i < 20; ++i) images.push_back(testing::SyntheticImage(i % 2, 8, 100 + i));
  QuantizationData data;
  for (int i = 0; i < 20; ++i) {
    data.calibration.push_back(ModelInput{{}, &images[static_cast<size_t>(i)]});
    data.calibration_labels.push_back(i % 2);
  }
  v1::QuantizeStart start_q;
  start_q.set_model("m");
  start_q.set_activation_bits(32);
  QuantizationContext ctx;
  ctx.cancel = &cancel_;
  ctx.new_output_dir = [this]() -> absl::StatusOr<std::filesystem::path> { return out_.path(); };
  auto result = QuantizeCnn(*float_model, *ResolveQuantizeStart(start_q), data, ctx);
  ASSERT_TRUE(result.ok()) << result.status();
  auto loaded = testing::LoadModelFromDir(result->variants[0].manifest, result->variants[0].dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto& model = static_cast<const CnnModel&>(**loaded);
  EXPECT_FALSE(model.runs_int8());
  EXPECT_EQ(model.execution(), "float kernels on the dequantized weights");
}

}  // namespace
}  // namespace textclf::cnn
