#include "core/torch/linear_cross_entropy.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "core/torch/intra_op_threads.h"

namespace textclf::torch_support {
namespace {

struct Problem {
  Problem(int64_t rows, int64_t features, int64_t classes, at::ScalarType dtype = at::kFloat, uint64_t seed = 3) {
    torch::manual_seed(seed);
    input = torch::randn({rows, features}, dtype) * 2;
    weight = torch::randn({classes, features}, dtype);
    bias = torch::randn({classes}, dtype);
    labels = torch::randint(0, classes, {rows}, torch::kInt64);
  }
  torch::Tensor input, weight, bias, labels;
};

struct Gradients {
  LinearCrossEntropyResult out;
  torch::Tensor input, weight, bias;
};

template <typename F>
Gradients RunLoss(const Problem& p, F loss_function, double upstream = 1.0) {
  Gradients g;
  const torch::Tensor input = p.input.clone().requires_grad_(true);
  const torch::Tensor weight = p.weight.clone().requires_grad_(true);
  const torch::Tensor bias = p.bias.clone().requires_grad_(true);
  g.out = loss_function(input, weight, bias, p.labels);
  (g.out.loss * upstream).backward();
  g.input = input.grad();
  g.weight = weight.grad();
  g.bias = bias.grad();
  return g;
}

void ExpectSame(const Gradients& fused, const Gradients& reference) {
  EXPECT_NEAR(fused.out.loss.item<double>(), reference.out.loss.item<double>(),
              1e-5 * std::max(1.0, std::abs(reference.out.loss.item<double>())));
  EXPECT_TRUE(torch::equal(fused.out.predicted, reference.out.predicted));
  for (auto [f, r, name] : {std::tuple{fused.input, reference.input, "input"},
                            std::tuple{fused.weight, reference.weight, "weight"},
                            std::tuple{fused.bias, reference.bias, "bias"}}) {
    ASSERT_TRUE(f.defined()) << name;
    // A gradient element sums a term per class (30522 of them) that nearly cancel: its rounding
    // error scales with the largest gradient, not with the element itself.
    const double scale = r.abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(f, r, 1e-4, 1e-4 * scale)) << name << ": " << (f - r).abs().max().item<float>()
                                                             << " of " << scale;
  }
}

TEST(LinearCrossEntropy, MatchesLibtorchLinearAndCrossEntropyForwardAndBackward) {
  for (int threads : {1, 2}) {
    const ScopedIntraOpThreads scoped(threads);
    for (auto [rows, classes] : {std::pair{1, 1}, std::pair{5, 7}, std::pair{33, 1000}, std::pair{3, 30522}}) {
      SCOPED_TRACE(testing::Message() << threads << " threads, " << rows << " rows, " << classes << " classes");
      const Problem p(rows, /*features=*/16, classes);
      ExpectSame(RunLoss(p, FusedLinearCrossEntropy), RunLoss(p, ReferenceLinearCrossEntropy));
    }
  }
}

TEST(LinearCrossEntropy, ScalesItsGradientsByTheUpstreamGradient) {
  const Problem p(9, 8, 50);
  ExpectSame(RunLoss(p, FusedLinearCrossEntropy, 3.5), RunLoss(p, ReferenceLinearCrossEntropy, 3.5));
}

TEST(LinearCrossEntropy, LargeLogitsStayFinite) {
  Problem p(4, 8, 20);
  p.input *= 1000;  // logits in the thousands: exp would overflow without the row maximum
  const Gradients fused = RunLoss(p, FusedLinearCrossEntropy);
  EXPECT_TRUE(std::isfinite(fused.out.loss.item<double>()));
  ExpectSame(fused, RunLoss(p, ReferenceLinearCrossEntropy));
}

TEST(LinearCrossEntropy, PredictsTheFirstOfTiedClassesAndLeavesItsInputsAlone) {
  Problem p(2, 4, 6);
  p.weight.zero_();
  p.bias = torch::tensor({0.0f, 2.0f, 1.0f, 2.0f, 2.0f, -1.0f});
  const torch::Tensor input_before = p.input.clone(), weight_before = p.weight.clone();
  const LinearCrossEntropyResult out = FusedLinearCrossEntropy(p.input, p.weight, p.bias, p.labels);
  EXPECT_EQ(out.predicted[0].item<int64_t>(), 1);
  EXPECT_EQ(out.predicted[1].item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(p.input, input_before));
  EXPECT_TRUE(torch::equal(p.weight, weight_before));
}

TEST(LinearCrossEntropy, ANonFiniteInputGivesANonFiniteLoss) {
  Problem p(3, 4, 10);
  p.input[1][2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(FusedLinearCrossEntropy(p.input, p.weight, p.bias, p.labels).loss.item<float>()));
  p.input[1][2] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(std::isfinite(FusedLinearCrossEntropy(p.input, p.weight, p.bias, p.labels).loss.item<float>()));
}

TEST(LinearCrossEntropy, RefusesBadShapesAndLabels) {
  const Problem p(3, 4, 10);
  EXPECT_THROW(LinearCrossEntropy(p.input.narrow(0, 0, 0), p.weight, p.bias, p.labels.narrow(0, 0, 0)), c10::Error);
  EXPECT_THROW(LinearCrossEntropy(p.input, p.weight.narrow(1, 0, 3), p.bias, p.labels), c10::Error);
  EXPECT_THROW(LinearCrossEntropy(p.input, p.weight, p.bias.narrow(0, 0, 9), p.labels), c10::Error);
  EXPECT_THROW(LinearCrossEntropy(p.input, p.weight, p.bias, p.labels.to(torch::kInt32)), c10::Error);
  for (int64_t bad : {int64_t{-1}, int64_t{10}}) {
    torch::Tensor labels = p.labels.clone();
    labels[2] = bad;
    try {
      LinearCrossEntropy(p.input, p.weight, p.bias, labels);
      ADD_FAILURE() << "label " << bad << " was accepted";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what()).find("label " + std::to_string(bad) + " of row 2"), std::string::npos)
          << e.what();
    }
  }
}

TEST(LinearCrossEntropy, OtherTypesTakeLibtorchOperations) {
  const Problem p(6, 8, 40, at::kDouble);
  EXPECT_FALSE(CanFuseLinearCrossEntropy(p.input, p.weight, p.bias));
  EXPECT_THROW(FusedLinearCrossEntropy(p.input, p.weight, p.bias, p.labels), c10::Error);
  const Gradients dispatched = RunLoss(p, LinearCrossEntropy);
  EXPECT_EQ(dispatched.out.loss.scalar_type(), at::kDouble);
  ExpectSame(dispatched, RunLoss(p, ReferenceLinearCrossEntropy));
}

}  // namespace
}  // namespace textclf::torch_support
