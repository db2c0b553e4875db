// The libtorch model itself: shapes, attention, determinism and padding invariance.
#include "core/encoder/bert_model.h"

#include <gtest/gtest.h>

#include "core/encoder/encoder_impl.h"
#include "tests/core/encoder/encoder_test_support.h"

namespace textclf::encoder {
namespace {

const std::vector<std::string> kWords = {"goal", "match", "vote", "law", "oven", "bake", "the", "a"};

PaddedBatch Batch(const Encoder& e, const std::vector<std::vector<int32_t>>& sequences) {
  std::vector<const std::vector<int32_t>*> pointers;
  for (const auto& s : sequences) pointers.push_back(&s);
  return PadSequences(pointers, e.tokenizer().pad_id());
}

std::vector<int32_t> Ids(const Encoder& e, const std::string& text) {
  return WrapSequence(e.tokenizer(), e.tokenizer().Tokenize(text).ids);
}

TEST(BertModel, ReturnsEveryLayerAndAttentionShapes) {
  auto e = testing::TinyEncoder(kWords);
  torch::NoGradGuard no_grad;
  PaddedBatch b = Batch(*e, {Ids(*e, "the goal"), Ids(*e, "vote law the oven")});
  BertOutputs out = e->impl().model->forward(b.ids, b.mask, /*want_attentions=*/true);
  ASSERT_EQ(out.hidden_states.size(), 3u);  // embeddings + 2 layers
  for (const auto& h : out.hidden_states) EXPECT_EQ(h.sizes(), torch::IntArrayRef({2, 6, 32}));
  ASSERT_EQ(out.attentions.size(), 2u);
  EXPECT_EQ(out.attentions[0].sizes(), torch::IntArrayRef({2, 4, 6, 6}));
  // Rows are distributions and padded keys (positions 4, 5 of the first sequence) get nothing.
  EXPECT_TRUE(torch::allclose(out.attentions[1].sum(-1), torch::ones({2, 4, 6}), 1e-5, 1e-5));
  EXPECT_EQ(out.attentions[1].index({0, torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(4, 6)})
                .abs()
                .max()
                .item<float>(),
            0.f);
  // Stopping early gives the same first layer.
  BertOutputs first = e->impl().model->forward(b.ids, b.mask, false, 1);
  ASSERT_EQ(first.hidden_states.size(), 2u);
  EXPECT_TRUE(torch::equal(first.hidden_states[1], out.hidden_states[1]));
}

TEST(BertModel, IsDeterministicInEvaluation) {
  auto e = testing::TinyEncoder(kWords);
  e->impl().model->eval();
  torch::NoGradGuard no_grad;
  PaddedBatch b = Batch(*e, {Ids(*e, "the match a bake")});
  EXPECT_TRUE(torch::equal(e->impl().model->forward(b.ids, b.mask).hidden_states.back(),
                           e->impl().model->forward(b.ids, b.mask).hidden_states.back()));
  // The same seed builds the same weights.
  auto again = testing::TinyEncoder(kWords);
  again->impl().model->eval();
  EXPECT_TRUE(torch::equal(e->impl().model->forward(b.ids, b.mask).hidden_states.back(),
                           again->impl().model->forward(b.ids, b.mask).hidden_states.back()));
}

TEST(BertModel, PaddingDoesNotChangeADocumentsStates) {
  auto e = testing::TinyEncoder(kWords);
  e->impl().model->eval();
  torch::NoGradGuard no_grad;
  const auto short_doc = Ids(*e, "goal match");
  PaddedBatch alone = Batch(*e, {short_doc});
  PaddedBatch padded = Batch(*e, {Ids(*e, "the vote law oven bake the a goal match law"), short_doc});
  const torch::Tensor a = e->impl().model->forward(alone.ids, alone.mask, true).hidden_states.back()[0];
  const torch::Tensor p = e->impl().model->forward(padded.ids, padded.mask, true).hidden_states.back()[1];
  const int64_t n = static_cast<int64_t>(short_doc.size());
  EXPECT_TRUE(torch::allclose(a, p.narrow(0, 0, n), 1e-5, 1e-5))
      << (a - p.narrow(0, 0, n)).abs().max().item<float>();
}

TEST(BertModel, MeanPoolingSkipsSpecialAndPaddingTokens) {
  const torch::Tensor hidden = torch::arange(2 * 4 * 1, torch::kFloat32).view({2, 4, 1});
  const torch::Tensor mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 0}, torch::kInt64).view({2, 4});
  const torch::Tensor pooled = MeanPoolPieces(hidden, mask);
  // First: tokens 1 and 2 (values 1, 2); second: token 5 only (values 4..6 real, 7 padding).
  EXPECT_FLOAT_EQ(pooled[0][0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(pooled[1][0].item<float>(), 5.f);
}

}  // namespace
}  // namespace textclf::encoder
