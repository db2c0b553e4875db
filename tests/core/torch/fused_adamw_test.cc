#include "core/torch/fused_adamw.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <vector>

namespace textclf::torch_support {
namespace {

// Two copies of the same parameters (one per optimizer), in two weight-decay groups.
struct Parameters {
  explicit Parameters(at::ScalarType dtype = at::kFloat) {
    torch::manual_seed(5);
    for (auto shape : {std::vector<int64_t>{300, 17}, {17}, {70000}, {5, 3}}) {
      const torch::Tensor init = torch::randn(shape, dtype);
      ours.push_back(init.clone().requires_grad_(true));
      theirs.push_back(init.clone().requires_grad_(true));
    }
  }
  std::vector<AdamWGroup> OurGroups() const { return {{{ours[0], ours[2]}, 0.01}, {{ours[1], ours[3]}, 0.0}}; }
  std::vector<torch::optim::OptimizerParamGroup> TheirGroups(double lr) const {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<torch::Tensor>{theirs[0], theirs[2]},
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(lr).weight_decay(0.01).eps(1e-6)));
    groups.emplace_back(std::vector<torch::Tensor>{theirs[1], theirs[3]},
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(lr).weight_decay(0.0).eps(1e-6)));
    return groups;
  }
  // The same random gradients on both copies; `skip` gets none.
  void SetGradients(int step, double magnitude, int skip = -1) {
    torch::manual_seed(100 + step);
    for (size_t i = 0; i < ours.size(); ++i) {
      ours[i].mutable_grad().reset();
      theirs[i].mutable_grad().reset();
      if (static_cast<int>(i) == skip) continue;
      const torch::Tensor g = torch::randn(ours[i].sizes(), ours[i].options()) * magnitude;
      ours[i].mutable_grad() = g.clone();
      theirs[i].mutable_grad() = g.clone();
    }
  }
  std::vector<torch::Tensor> ours, theirs;
};

void ExpectSameParameters(const Parameters& p) {
  for (size_t i = 0; i < p.ours.size(); ++i) {
    EXPECT_TRUE(torch::allclose(p.ours[i], p.theirs[i], 1e-5, 1e-6))
        << "parameter " << i << ": " << (p.ours[i] - p.theirs[i]).abs().max().item<double>();
  }
}

void ExpectMatchesLibtorch(at::ScalarType dtype) {
  Parameters p(dtype);
  FusedAdamW ours(p.OurGroups(), {.learning_rate = 1e-2, .eps = 1e-6});
  torch::optim::AdamW theirs(p.TheirGroups(1e-2));
  for (int step = 0; step < 8; ++step) {
    SCOPED_TRACE(testing::Message() << "step " << step);
    const double lr = 1e-2 * (step + 1) / 8;  // a schedule, as pretraining's warm-up
    ours.set_learning_rate(lr);
    for (auto& group : theirs.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    // Large gradients are clipped, small ones not; parameter 1 has none at step 3.
    p.SetGradients(step, step % 2 == 0 ? 10.0 : 1e-3, step == 3 ? 1 : -1);
    const double our_norm = ours.Step(1.0);
    const double their_norm = torch::nn::utils::clip_grad_norm_(p.theirs, 1.0);
    EXPECT_NEAR(our_norm, their_norm, 1e-5 * their_norm);
    theirs.step();
    ExpectSameParameters(p);
  }
}

TEST(FusedAdamW, MatchesLibtorchAdamWAfterClipGradNorm) { ExpectMatchesLibtorch(at::kFloat); }

TEST(FusedAdamW, OtherTypesTakeLibtorchOperationsToTheSameResult) { ExpectMatchesLibtorch(at::kDouble); }

TEST(FusedAdamW, WithoutClippingTheGradientsAreUsedAsTheyAre) {
  Parameters p;
  FusedAdamW ours(p.OurGroups(), {.learning_rate = 1e-3, .eps = 1e-6});
  torch::optim::AdamW theirs(p.TheirGroups(1e-3));
  for (int step = 0; step < 3; ++step) {
    p.SetGradients(step, 50.0);
    const double norm = ours.Step(/*max_grad_norm=*/0);
    EXPECT_GT(norm, 100.0);
    theirs.step();
    ExpectSameParameters(p);
  }
}

TEST(FusedAdamW, ReportsANonFiniteGradientNorm) {
  Parameters p;
  FusedAdamW ours(p.OurGroups(), {});
  p.SetGradients(0, 1.0);
  p.ours[2].mutable_grad()[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(ours.Step(1.0)));
}

TEST(FusedAdamW, ClearGradientsDropsEveryParametersGradient) {
  Parameters p;
  FusedAdamW ours(p.OurGroups(), {});
  p.SetGradients(0, 1.0);
  ours.ClearGradients();
  for (const torch::Tensor& parameter : p.ours) EXPECT_FALSE(parameter.grad().defined());
  const torch::Tensor before = p.ours[0].clone();
  EXPECT_EQ(ours.Step(1.0), 0.0);  // nothing to step on
  EXPECT_TRUE(torch::equal(p.ours[0], before));
}

TEST(FusedAdamW, RefusesBadSettings) {
  Parameters p;
  EXPECT_THROW(FusedAdamW(p.OurGroups(), {.beta1 = 1.0}), c10::Error);
  EXPECT_THROW(FusedAdamW(p.OurGroups(), {.beta2 = -0.1}), c10::Error);
  EXPECT_THROW(FusedAdamW(p.OurGroups(), {.eps = 0}), c10::Error);
}

}  // namespace
}  // namespace textclf::torch_support
