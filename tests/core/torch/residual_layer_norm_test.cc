#include "core/torch/residual_layer_norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/torch/dropout.h"
#include "core/torch/intra_op_threads.h"

namespace textclf::torch_support {
namespace {

struct Result {
  torch::Tensor out, y, residual, gamma, beta;
};

// Runs f(y, residual, gamma, beta) on seeded inputs and back-propagates a random upstream.
template <typename F>
Result RunNorm(F f, const std::vector<int64_t>& shape) {
  torch::manual_seed(21);
  const int64_t width = shape.back();
  const torch::Tensor y = torch::randn(shape).requires_grad_(true);
  const torch::Tensor residual = (3 * torch::randn(shape) + 1).requires_grad_(true);
  const torch::Tensor gamma = (1 + 0.5 * torch::randn({width})).requires_grad_(true);
  const torch::Tensor beta = torch::randn({width}).requires_grad_(true);
  Result r;
  r.out = f(y, residual, gamma, beta);
  (r.out * torch::randn(shape)).sum().backward();
  r.y = y.grad();
  r.residual = residual.grad();
  r.gamma = gamma.grad();
  r.beta = beta.grad();
  return r;
}

void ExpectClose(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  EXPECT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-4)) << what << ": " << (a - b).abs().max().item<float>();
}

TEST(FusedDropoutAddLayerNorm, MatchesLibtorchsCompositionWithTheSameMask) {
  constexpr double kEps = 1e-12;
  constexpr uint64_t kSeed = 77;
  for (double p : {0.0, 0.1, 0.5}) {
    for (int threads : {1, 2}) {
      const ScopedIntraOpThreads scoped(threads);
      for (auto shape : {std::vector<int64_t>{8, 56, 128}, {3, 20}}) {
        SCOPED_TRACE(testing::Message() << "p " << p << ", " << threads << " threads, " << shape.size() << "-d");
        const Result fused = RunNorm(
            [&](auto y, auto r, auto g, auto b) { return FusedDropoutAddLayerNorm(y, r, g, b, kEps, p, kSeed); },
            shape);
        const Result reference = RunNorm(
            [&](auto y, auto r, auto g, auto b) {
              const torch::Tensor mask = p > 0 ? DropoutMask(y.sizes(), p, kSeed) : torch::ones(y.sizes());
              return torch::layer_norm(y * mask + r, {y.size(-1)}, g, b, kEps);
            },
            shape);
        ExpectClose(fused.out, reference.out, "output");
        ExpectClose(fused.y, reference.y, "y gradient");
        ExpectClose(fused.residual, reference.residual, "residual gradient");
        ExpectClose(fused.gamma, reference.gamma, "gamma gradient");
        ExpectClose(fused.beta, reference.beta, "beta gradient");
      }
    }
  }
}

TEST(FusedDropoutAddLayerNorm, DropsTheSameShareAsDropout) {
  torch::manual_seed(5);
  const torch::Tensor y = torch::randn({64, 128}).requires_grad_(true);
  const torch::Tensor zeros = torch::zeros({64, 128});
  // A random upstream: LayerNorm's input gradient for a plain sum of its outputs is 0.
  (FusedDropoutAddLayerNorm(y, zeros, torch::ones({128}), torch::zeros({128}), 1e-5, 0.25, 9) *
   torch::randn({64, 128}))
      .sum()
      .backward();
  // Dropped elements get no gradient; a quarter of 8192 is 2048, give or take 3 sigma (118).
  const int64_t dropped = (y.grad() == 0).sum().item<int64_t>();
  EXPECT_NEAR(static_cast<double>(dropped), 2048.0, 118.0);
}

TEST(DropoutAddLayerNorm, IsLibtorchsCompositionOutsideTraining) {
  torch::manual_seed(6);
  const torch::Tensor y = torch::randn({4, 16}), r = torch::randn({4, 16});
  const torch::Tensor g = torch::randn({16}), b = torch::randn({16});
  const torch::Tensor want = torch::layer_norm(y + r, {16}, g, b, 1e-5);
  EXPECT_TRUE(torch::equal(DropoutAddLayerNorm(y, r, g, b, 1e-5, 0.1, /*training=*/false), want));
  // Gradient wanted but not training: the fused path, no dropout.
  const torch::Tensor yg = y.clone().requires_grad_(true);
  EXPECT_TRUE(torch::allclose(DropoutAddLayerNorm(yg, r, g, b, 1e-5, 0.1, false), want, 1e-5, 1e-5));
  // Training: some elements are dropped, so the output differs from the undropped one.
  const torch::Tensor trained = DropoutAddLayerNorm(yg, r, g, b, 1e-5, 0.5, true);
  EXPECT_FALSE(torch::allclose(trained, want, 1e-3, 1e-3));
}

TEST(FusedDropoutAddLayerNorm, RejectsWhatItCannotTake) {
  const torch::Tensor y = torch::randn({4, 16}), g = torch::ones({16}), b = torch::zeros({16});
  EXPECT_FALSE(CanFuseDropoutAddLayerNorm(y, torch::randn({4, 15}), g, b));
  EXPECT_FALSE(CanFuseDropoutAddLayerNorm(y.to(torch::kDouble), y.to(torch::kDouble), g, b));
  EXPECT_THROW(FusedDropoutAddLayerNorm(y, y, torch::ones({15}), b, 1e-5, 0.1, 1), c10::Error);
  EXPECT_THROW(FusedDropoutAddLayerNorm(y, y, g, b, 1e-5, 1.0, 1), c10::Error);
  EXPECT_THROW(DropoutAddLayerNorm(y, y, g, b, 1e-5, -0.1, true), c10::Error);
}

}  // namespace
}  // namespace textclf::torch_support
