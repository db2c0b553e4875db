#include "core/torch/fused_attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "core/torch/dropout.h"
#include "core/torch/row_major_gemm.h"

namespace textclf::torch_support {
namespace {

constexpr float kPadding = -1e9f;

// q, k and v as column slices of one [batch, tokens, 3 hidden] tensor, as the BERT layer makes
// them, and an additive mask whose later sequences end in padding.
struct Inputs {
  Inputs(int64_t batch, int64_t tokens, int64_t hidden, uint64_t seed = 1) {
    torch::manual_seed(seed);
    qkv = torch::randn({batch, tokens, 3 * hidden});
    mask = torch::zeros({batch, tokens});
    for (int64_t b = 1; b < batch; ++b) mask[b].narrow(0, tokens - b % tokens, b % tokens).fill_(kPadding);
  }
  std::vector<torch::Tensor> Parts(bool requires_grad) {
    leaf = qkv.clone().requires_grad_(requires_grad);
    return leaf.chunk(3, -1);
  }
  torch::Tensor qkv, mask, leaf;
};

struct Run {
  AttentionResult out;
  torch::Tensor grad;  // d(sum(context * weights)) / d(qkv)
};

template <typename F>
Run Backward(Inputs& in, F attention) {
  const std::vector<torch::Tensor> p = in.Parts(true);
  Run run;
  run.out = attention(p[0], p[1], p[2]);
  torch::manual_seed(99);
  const torch::Tensor weights = torch::randn(run.out.context.sizes());
  (run.out.context * weights).sum().backward();
  run.grad = in.leaf.grad();
  return run;
}

void ExpectSameAttention(const Run& fused, const Run& reference) {
  EXPECT_TRUE(torch::allclose(fused.out.context, reference.out.context, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(fused.out.probabilities, reference.out.probabilities, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(fused.grad, reference.grad, 1e-4, 1e-5))
      << (fused.grad - reference.grad).abs().max().item<float>();
}

TEST(FusedAttention, MatchesLibtorchOperationsForwardAndBackward) {
  for (int64_t tokens : {1, 7, 16}) {  // 7: blocks start at odd flat indices
    Inputs in(/*batch=*/3, tokens, /*hidden=*/12);
    for (double dropout : {0.0, 0.25}) {
      auto fused = [&](auto q, auto k, auto v) { return FusedAttention(q, k, v, in.mask, 3, dropout, true, 17); };
      auto reference = [&](auto q, auto k, auto v) {
        return ReferenceAttention(q, k, v, in.mask, 3, dropout, true, 17);
      };
      SCOPED_TRACE(testing::Message() << "tokens " << tokens << ", dropout " << dropout);
      ExpectSameAttention(Backward(in, fused), Backward(in, reference));
    }
  }
}

TEST(FusedAttention, DropsTheSameElementsAsDropoutMask) {
  Inputs in(2, 9, 8);
  const std::vector<torch::Tensor> p = in.Parts(false);
  const AttentionResult kept = FusedAttention(p[0], p[1], p[2], in.mask, 2, 0.0, true, 5);
  const AttentionResult dropped = FusedAttention(p[0], p[1], p[2], in.mask, 2, 0.5, true, 5);
  // context = probs' v with probs' = probs * mask: recompute it from the mask the seed gives.
  const torch::Tensor mask = DropoutMask(kept.probabilities.sizes(), 0.5, 5);
  const torch::Tensor v = p[2].reshape({2, 9, 2, 4}).transpose(1, 2);
  const torch::Tensor expected = torch::matmul(kept.probabilities * mask, v).transpose(1, 2).reshape({2, 9, 8});
  EXPECT_TRUE(torch::allclose(dropped.context, expected, 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(dropped.context, kept.context, 1e-3, 1e-3));
  EXPECT_TRUE(dropped.probabilities.equal(kept.probabilities));  // reported before dropout
}

TEST(FusedAttention, PaddedKeysGetNoAttentionAndRowsSumToOne) {
  Inputs in(4, 6, 8);
  const std::vector<torch::Tensor> p = in.Parts(false);
  const AttentionResult out = FusedAttention(p[0], p[1], p[2], in.mask, 2, 0.0, false, 0);
  const torch::Tensor padded = in.mask.lt(0).view({4, 1, 1, 6}).expand_as(out.probabilities);
  EXPECT_TRUE(out.probabilities.masked_select(padded).eq(0).all().item<bool>());
  EXPECT_TRUE(torch::allclose(out.probabilities.sum(-1), torch::ones({4, 2, 6}), 1e-5, 1e-6));
}

TEST(FusedAttention, FollowsTorchManualSeedAndLeavesEvaluationUntouched) {
  Inputs in(2, 5, 8);
  const std::vector<torch::Tensor> p = in.Parts(false);
  auto attend = [&](bool training) { return MultiHeadAttention(p[0], p[1], p[2], in.mask, 2, 0.3, training, false); };
  torch::manual_seed(3);
  const AttentionResult a = attend(true);
  const AttentionResult b = attend(true);
  torch::manual_seed(3);
  const AttentionResult again = attend(true);
  EXPECT_TRUE(a.context.equal(again.context));
  EXPECT_FALSE(a.context.equal(b.context));  // each call draws a new mask
  EXPECT_FALSE(a.probabilities.defined());   // not asked for
  const AttentionResult eval = attend(false);
  const AttentionResult reference = ReferenceAttention(p[0], p[1], p[2], in.mask, 2, 0.3, false, 0);
  EXPECT_TRUE(torch::allclose(eval.context, reference.context, 1e-4, 1e-5));
}

TEST(FusedAttention, OtherTypesTakeTheLibtorchPath) {
  Inputs in(2, 4, 8);
  const std::vector<torch::Tensor> p = in.Parts(false);
  const torch::Tensor q = p[0].to(torch::kFloat64), k = p[1].to(torch::kFloat64), v = p[2].to(torch::kFloat64);
  const torch::Tensor mask = in.mask.to(torch::kFloat64);
  EXPECT_FALSE(CanFuseAttention(q, k, v, mask));
  EXPECT_TRUE(CanFuseAttention(p[0], p[1], p[2], in.mask));
  const torch::Tensor column_major = torch::randn({2, 8, 4}).transpose(1, 2);  // [2, 4, 8], rows strided
  EXPECT_FALSE(CanFuseAttention(column_major, p[1], p[2], in.mask));
  EXPECT_FALSE(CanFuseAttention(p[0], p[1], p[2], in.mask.to(torch::kFloat64)));
  const AttentionResult doubles = MultiHeadAttention(q, k, v, mask, 2, 0.0, false, true);
  const AttentionResult floats = MultiHeadAttention(p[0], p[1], p[2], in.mask, 2, 0.0, false, true);
  EXPECT_EQ(doubles.context.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(doubles.context.to(torch::kFloat32), floats.context, 1e-4, 1e-5));
}

TEST(FusedAttention, RefusesMismatchedShapes) {
  Inputs in(2, 4, 8);
  const std::vector<torch::Tensor> p = in.Parts(false);
  EXPECT_THROW(FusedAttention(p[0], p[1].narrow(1, 0, 3), p[2], in.mask, 2, 0.0, false, 0), c10::Error);
  EXPECT_THROW(FusedAttention(p[0], p[1], p[2], in.mask, 3, 0.0, false, 0), c10::Error);  // 8 % 3 != 0
  EXPECT_THROW(FusedAttention(p[0], p[1], p[2], in.mask.narrow(1, 0, 3), 2, 0.0, false, 0), c10::Error);
  EXPECT_THROW(FusedAttention(p[0], p[1], p[2], in.mask, 2, 1.0, true, 0), c10::Error);
}

TEST(RowMajorGemm, MatchesMatmulForEveryTransposeAndLeadingDimension) {
  torch::manual_seed(4);
  const int64_t m = 5, n = 7, k = 3;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      // Stored with wider rows than used: the leading dimension is not the column count.
      const torch::Tensor a_store = torch::randn({ta ? k : m, 11}), b_store = torch::randn({tb ? n : k, 13});
      const torch::Tensor a = a_store.narrow(1, 0, ta ? m : k), b = b_store.narrow(1, 0, tb ? k : n);
      torch::Tensor c_store = torch::randn({m, 9});
      const torch::Tensor c_before = c_store.narrow(1, 0, n).clone();
      RowMajorGemm(ta, tb, m, n, k, 2.0f, a_store.data_ptr<float>(), 11, b_store.data_ptr<float>(), 13, 0.5f,
                   c_store.data_ptr<float>(), 9);
      const torch::Tensor expected = 2 * torch::matmul(ta ? a.t() : a, tb ? b.t() : b) + 0.5 * c_before;
      EXPECT_TRUE(torch::allclose(c_store.narrow(1, 0, n), expected, 1e-5, 1e-5)) << ta << tb;
    }
  }
}

}  // namespace
}  // namespace textclf::torch_support
