#include "core/torch/training_linear.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/torch/intra_op_threads.h"

namespace textclf::torch_support {
namespace {

struct Gradients {
  torch::Tensor y, x, weight, bias;
};

template <typename F>
Gradients RunLinear(F linear, const std::vector<int64_t>& x_shape, int64_t out, bool x_requires_grad = true) {
  torch::manual_seed(11);
  const int64_t in = x_shape.back();
  const torch::Tensor x = torch::randn(x_shape).requires_grad_(x_requires_grad);
  const torch::Tensor weight = torch::randn({out, in}).requires_grad_(true);
  const torch::Tensor bias = torch::randn({out}).requires_grad_(true);
  Gradients g;
  g.y = linear(x, weight, bias);
  std::vector<int64_t> y_shape = x_shape;
  y_shape.back() = out;
  const torch::Tensor upstream = torch::randn(y_shape);
  (g.y * upstream).sum().backward();
  g.x = x.grad();
  g.weight = weight.grad();
  g.bias = bias.grad();
  return g;
}

void ExpectClose(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  ASSERT_EQ(a.defined(), b.defined()) << what;
  if (!a.defined()) return;
  EXPECT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-4)) << what << ": " << (a - b).abs().max().item<float>();
}

TEST(SplitGradientLinear, MatchesLibtorchLinearForwardAndBackward) {
  for (int threads : {1, 2}) {
    const ScopedIntraOpThreads scoped(threads);
    // 1792 tokens split in two shares; 700 and 5 tokens take fewer or one.
    for (auto shape : {std::vector<int64_t>{32, 56, 24}, {700, 24}, {5, 24}}) {
      SCOPED_TRACE(testing::Message() << threads << " threads, " << shape.size() << "-d input of " << shape[0]);
      const Gradients split = RunLinear(SplitGradientLinear, shape, 40);
      const Gradients reference = RunLinear(
          [](auto x, auto w, auto b) { return torch::nn::functional::linear(x, w, b); }, shape, 40);
      ExpectClose(split.y, reference.y, "output");
      ExpectClose(split.x, reference.x, "input gradient");
      ExpectClose(split.weight, reference.weight, "weight gradient");
      ExpectClose(split.bias, reference.bias, "bias gradient");
    }
  }
}

TEST(SplitGradientLinear, LeavesOutTheInputGradientWhenNotWanted) {
  const Gradients split = RunLinear(SplitGradientLinear, {600, 8}, 6, /*x_requires_grad=*/false);
  EXPECT_FALSE(split.x.defined());
  const Gradients reference =
      RunLinear([](auto x, auto w, auto b) { return torch::nn::functional::linear(x, w, b); }, {600, 8}, 6, false);
  ExpectClose(split.weight, reference.weight, "weight gradient");
}

TEST(TrainingLinear, IsLibtorchLinearWithoutGradientsAndForOtherTypes) {
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({4, 3}), w = torch::randn({2, 3}), b = torch::randn({2});
  {
    const torch::NoGradGuard no_grad;
    const torch::Tensor y = TrainingLinear(x, w.requires_grad_(true), b);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(torch::allclose(y, torch::nn::functional::linear(x, w, b)));
  }
  const torch::Tensor xd = x.to(torch::kDouble), wd = w.detach().to(torch::kDouble).requires_grad_(true);
  EXPECT_FALSE(CanSplitLinearGradient(xd, wd, b.to(torch::kDouble)));
  const torch::Tensor yd = TrainingLinear(xd, wd, b.to(torch::kDouble));
  EXPECT_EQ(yd.scalar_type(), torch::kDouble);
  EXPECT_THROW(SplitGradientLinear(xd, wd, b.to(torch::kDouble)), c10::Error);
  EXPECT_THROW(SplitGradientLinear(x, w.narrow(1, 0, 2), b), c10::Error);
}

}  // namespace
}  // namespace textclf::torch_support
