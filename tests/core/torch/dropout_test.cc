#include "core/torch/dropout.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

namespace textclf::torch_support {
namespace {

TEST(Dropout, DropsTheAskedFractionAndRescalesTheRest) {
  for (double p : {0.1, 0.5}) {
    const at::Tensor mask = DropoutMask({1000, 1001}, p, /*seed=*/7);  // odd count: the last word is half used
    const double dropped = mask.eq(0).to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(dropped, p, 0.003) << p;
    const at::Tensor kept = mask.masked_select(mask.ne(0));
    EXPECT_TRUE(kept.eq(static_cast<float>(1 / (1 - p))).all().item<bool>()) << p;
    EXPECT_NEAR(mask.to(torch::kFloat64).mean().item<double>(), 1.0, 0.005) << p;  // expectation kept
  }
}

TEST(Dropout, MaskDependsOnTheSeedOnlyNotOnTheThreadCount) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = DropoutMask({300, 1000}, 0.1, 42);
  at::set_num_threads(2);
  const at::Tensor two = DropoutMask({300, 1000}, 0.1, 42);
  at::set_num_threads(threads);
  EXPECT_TRUE(one.equal(two));
  EXPECT_FALSE(one.equal(DropoutMask({300, 1000}, 0.1, 43)));
}

TEST(Dropout, NeighbouringElementsAreUncorrelated) {
  // Two elements share each 64-bit word; their decisions must still be independent.
  const at::Tensor mask = DropoutMask({200000, 2}, 0.5, 3).eq(0).to(torch::kFloat64);
  const double both = (mask.select(1, 0) * mask.select(1, 1)).mean().item<double>();
  EXPECT_NEAR(both, 0.25, 0.01);
}

TEST(Dropout, IsTheIdentityOutsideTrainingAndAtZero) {
  const at::Tensor x = torch::randn({4, 5});
  EXPECT_TRUE(Dropout(x, 0.3, /*training=*/false).is_same(x));
  EXPECT_TRUE(Dropout(x, 0.0, /*training=*/true).is_same(x));
  EXPECT_THROW(Dropout(x, 1.0, true), c10::Error);
}

TEST(Dropout, FollowsTorchManualSeedAndPassesTheMaskToTheGradient) {
  const at::Tensor x = torch::randn({64, 33}).requires_grad_(true);
  torch::manual_seed(5);
  const at::Tensor a = Dropout(x, 0.25, true);
  const at::Tensor b = Dropout(x, 0.25, true);
  torch::manual_seed(5);
  const at::Tensor again = Dropout(x, 0.25, true);
  EXPECT_TRUE(a.equal(again));
  EXPECT_FALSE(a.equal(b));  // successive calls draw new masks

  a.sum().backward();
  const at::Tensor mask = (a / x).detach();  // x has no zeros (randn), so this recovers the mask
  EXPECT_TRUE(torch::allclose(x.grad(), mask, 1e-5, 1e-6));
}

}  // namespace
}  // namespace textclf::torch_support
