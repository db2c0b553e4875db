// The networks as functions of tensor maps: batch-norm folding keeps the function, shape checks
// name the wrong keys, activation fake quantization snaps to its grid.
#include "core/cnn/cnn_network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;

Architecture ResNet(int depth, int channels) {
  Architecture a;
  a.family = v1::IMAGE_CNN;
  a.image.set_depth(depth);
  a.image.set_channels(channels);
  return a;
}

TEST(CnnNetwork, FoldingBatchNormKeepsTheFunctionWithin1e5) {
  const Architecture a = ResNet(8, 3);
  TensorMap p = a.Initialize(10, 0, 7);
  // Batch norms with non-trivial statistics, as after training.
  torch::manual_seed(3);
  for (auto& [name, t] : p) {
    if (name.find("bn") == std::string::npos && name.find("downsample.1") == std::string::npos) continue;
    if (name.find("running_var") != std::string::npos) t.uniform_(0.5, 2.0);
    if (name.find("running_mean") != std::string::npos) t.normal_(0, 0.3);
    if (name.ends_with(".weight")) t.uniform_(0.5, 1.5);
    if (name.ends_with(".bias") ) t.normal_(0, 0.2);
  }
  const torch::Tensor x = torch::randn({4, 3, 16, 16});
  torch::NoGradGuard no_grad;
  const torch::Tensor before = a.Forward(p, x, {});
  TensorMap folded = p;
  FoldBatchNorm(a, &folded);
  EXPECT_FALSE(folded.contains("bn1.weight"));
  EXPECT_TRUE(folded.contains("conv1.bias"));
  EXPECT_TRUE(folded.contains("layer2.0.downsample.0.bias"));
  EXPECT_TRUE(CheckTensors(folded, a, 10, 0, /*folded=*/true).ok());
  const torch::Tensor after = a.Forward(folded, x, {});
  EXPECT_LT((before - after).abs().max().item<float>(), 1e-5) << before.abs().max().item<float>();
}

TEST(CnnNetwork, TextCnnScoresDoNotDependOnTheBatchPadding) {
  Architecture a;
  a.family = v1::TEXT_CNN;
  a.text.set_embedding_dim(8);
  a.text.set_feature_maps(6);
  for (int w : {3, 4, 5}) a.text.add_filter_widths(w);
  TensorMap p = a.Initialize(3, 20, 11);
  // Biases that make the padded windows win the max if they were pooled.
  for (int i = 0; i < 3; ++i) p["convs." + std::to_string(i) + ".bias"].fill_(0.5);
  torch::NoGradGuard no_grad;
  // A 6-word text and a 2-word one (shorter than the widest filter), alone and padded with zeros
  // (kPad) to 30 ids, as when batched with a longer text.
  const std::vector<std::vector<int64_t>> texts = {{2, 5, 7, 3, 9, 4}, {6, 8}};
  for (const auto& ids : texts) {
    const int64_t own = std::max<int64_t>(5, static_cast<int64_t>(ids.size()));
    torch::Tensor alone = torch::zeros({1, own}, torch::kLong);
    torch::Tensor padded = torch::zeros({1, 30}, torch::kLong);
    for (size_t k = 0; k < ids.size(); ++k) {
      alone[0][static_cast<int64_t>(k)] = ids[k];
      padded[0][static_cast<int64_t>(k)] = ids[k];
    }
    const torch::Tensor a1 = a.Forward(p, alone, {});
    const torch::Tensor a2 = a.Forward(p, padded, {});
    EXPECT_LT((a1 - a2).abs().max().item<float>(), 1e-6) << ids.size() << " words";
  }
  // Training leaves the padding row at zero.
  TensorMap trained = p;
  trained["embedding.weight"].set_requires_grad(true);
  ForwardOptions training;
  training.training = true;
  torch::Tensor batch = torch::zeros({2, 7}, torch::kLong);
  batch[0][0] = 3;
  batch[1][1] = 4;
  {
    torch::GradMode::set_enabled(true);
    a.Forward(trained, batch, training).sum().backward();
    torch::GradMode::set_enabled(false);
  }
  EXPECT_EQ(trained["embedding.weight"].grad()[0].abs().sum().item<float>(), 0.f);
  EXPECT_GT(trained["embedding.weight"].grad()[3].abs().sum().item<float>(), 0.f);
}

TEST(CnnNetwork, CheckTensorsNamesMissingUnexpectedAndMisshapenKeys) {
  const Architecture a = ResNet(8, 1);
  TensorMap p = a.Initialize(3, 0, 1);
  p.erase("layer1.0.bn2.running_var");
  p["layer9.conv"] = torch::zeros({1});
  p["fc.bias"] = torch::zeros({4});
  const absl::Status s = CheckTensors(p, a, 3, 0, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("missing keys: layer1.0.bn2.running_var"));
  EXPECT_THAT(s.message(), HasSubstr("unexpected keys: layer9.conv"));
  EXPECT_THAT(s.message(), HasSubstr("fc.bias [4], expected [3]"));
}

TEST(CnnNetwork, ResNetDepthSetsTheBlocks) {
  EXPECT_EQ(ResNet(20, 3).ExpectedShapes(100, 0, false).count("layer3.2.conv2.weight"), 1u);
  EXPECT_EQ(ResNet(20, 3).ExpectedShapes(100, 0, false).count("layer3.3.conv2.weight"), 0u);
  EXPECT_EQ(ResNet(56, 3).ExpectedShapes(100, 0, false).count("layer3.8.conv2.weight"), 1u);
}

TEST(CnnNetwork, TextCnnGivesOneRowOfLogitsPerText) {
  Architecture a;
  a.family = v1::TEXT_CNN;
  a.text.set_embedding_dim(8);
  a.text.set_feature_maps(4);
  for (int w : {2, 3}) a.text.add_filter_widths(w);
  const TensorMap p = a.Initialize(3, 50, 1);
  EXPECT_TRUE(CheckTensors(p, a, 3, 50, false).ok());
  EXPECT_EQ(p.at("embedding.weight")[0].abs().sum().item<float>(), 0.f);  // padding row
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = a.Forward(p, torch::randint(0, 50, {5, 7}, torch::kLong), {});
  EXPECT_EQ(logits.sizes().vec(), (std::vector<int64_t>{5, 3}));
  // Sites where activations get quantized: the convolutions' input and the classifier's.
  struct Recorder : ActivationHook {
    std::vector<std::string> sites;
    torch::Tensor At(const std::string& site, const torch::Tensor& x) override {
      sites.push_back(site);
      return x;
    }
  } recorder;
  ForwardOptions o;
  o.hook = &recorder;
  a.Forward(p, torch::randint(0, 50, {2, 7}, torch::kLong), o);
  EXPECT_EQ(recorder.sites, (std::vector<std::string>{"convs", "fc"}));
}

TEST(CnnNetwork, FakeQuantHookSnapsToTheGridAndClips) {
  v1::ActivationQuantizer signed_site, unsigned_site;
  signed_site.set_site("a");
  signed_site.set_threshold(1.27f);  // 8 bits signed: step 0.01
  unsigned_site.set_site("b");
  unsigned_site.set_threshold(2.55f);  // 8 bits unsigned: step 0.01
  unsigned_site.set_is_unsigned(true);
  FakeQuantHook hook({signed_site, unsigned_site}, 8);
  const torch::Tensor x = torch::tensor({0.004f, 0.016f, -0.5f, 3.f, -3.f});
  const torch::Tensor a = hook.At("a", x);
  EXPECT_NEAR(a[0].item<float>(), 0.f, 1e-6);
  EXPECT_NEAR(a[1].item<float>(), 0.02f, 1e-6);
  EXPECT_NEAR(a[2].item<float>(), -0.5f, 1e-6);
  EXPECT_NEAR(a[3].item<float>(), 1.27f, 1e-6);
  EXPECT_NEAR(a[4].item<float>(), -1.27f, 1e-6);
  const torch::Tensor b = hook.At("b", x);
  EXPECT_NEAR(b[2].item<float>(), 0.f, 1e-6);  // unsigned: negatives clip to zero
  EXPECT_NEAR(b[3].item<float>(), 2.55f, 1e-6);
  EXPECT_TRUE(hook.At("elsewhere", x).equal(x));
}

}  // namespace
}  // namespace textclf::cnn
