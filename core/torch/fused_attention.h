// Multi-head scaled dot-product attention for the BERT encoder: softmax(q k^T / sqrt(d) + mask) v,
// with dropout on the probabilities while training.
//
// On the CPU in float32, each (sequence, head) block's products are BLAS calls on raw memory,
// spread over the intra-op threads, with the dropout applied inside the same pass and the
// context written straight into [batch, tokens, hidden]. libtorch 1.13's matmul runs the
// per-head products one small GEMM after another on one core, with transposes, copies and a
// full-size dropout mask around them: a fifth of a pretraining step of the default encoder.
// Other devices and types take the same steps as libtorch operations (ReferenceAttention).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace textclf::torch_support {

struct AttentionResult {
  at::Tensor context;        // [batch, tokens, heads * head_size]
  at::Tensor probabilities;  // [batch, heads, tokens, tokens], before dropout; only when asked for
};

// q, k, v: [batch, tokens, heads * head_size]; views with a row stride (slices of one fused
// projection) are fine. additive_mask: [batch, tokens], 0 for real keys and a large negative
// for padding. Differentiable in q, k and v (the probabilities are not). Dropout draws its seed
// from libtorch's default generator, as Dropout() does, so torch::manual_seed reproduces a run.
AttentionResult MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const at::Tensor& additive_mask, int64_t heads, double dropout, bool training,
                                   bool want_probabilities);

// Both paths with an explicit dropout seed, for tests: with the same seed they drop the same
// elements (those of DropoutMask(probabilities.sizes(), dropout, seed)).
AttentionResult FusedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& additive_mask, int64_t heads, double dropout, bool training,
                               uint64_t seed);
AttentionResult ReferenceAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const at::Tensor& additive_mask, int64_t heads, double dropout, bool training,
                                   uint64_t seed);

// Whether FusedAttention takes these inputs (CPU, float32, contiguous rows).
bool CanFuseAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& additive_mask);

}  // namespace textclf::torch_support
