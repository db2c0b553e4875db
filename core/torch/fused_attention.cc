#include "core/torch/fused_attention.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/torch/dropout.h"
#include "core/torch/row_major_gemm.h"

namespace textclf::torch_support {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Where one (sequence, head) block of a [batch, tokens, heads * head_size] tensor starts, and
// the distance between its rows.
struct HeadView {
  HeadView(const at::Tensor& t, int64_t head_size)
      : data(t.data_ptr<float>()), batch_stride(t.stride(0)), row_stride(t.stride(1)), head_size(head_size) {}
  float* block(int64_t b, int64_t h) const { return data + b * batch_stride + h * head_size; }
  float* data;
  int64_t batch_stride, row_stride, head_size;
};

struct Shape {
  explicit Shape(const at::Tensor& q, int64_t heads)
      : batch(q.size(0)), tokens(q.size(1)), heads(heads), head_size(q.size(2) / heads),
        scale(static_cast<float>(1.0 / std::sqrt(static_cast<double>(q.size(2) / heads)))) {}
  int64_t batch, tokens, heads, head_size;
  float scale;
  int64_t blocks() const { return batch * heads; }
  int64_t block_elements() const { return tokens * tokens; }
};

// out = probs * keep / (1 - p): the probabilities after dropout.
void ApplyDropout(const float* probs, const uint8_t* keep, float keep_scale, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = keep[i] ? probs[i] * keep_scale : 0.0f;
}

// Each pass runs over all (sequence, head) blocks on the intra-op threads; the softmax and its
// gradient run between passes as libtorch's own kernels, which are vectorised for this CPU at
// run time (code compiled here is built for any x86-64, so its loops would not be).
struct FusedAttentionFunction : public torch::autograd::Function<FusedAttentionFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& additive_mask, int64_t heads, double dropout, bool training,
                               int64_t seed) {
    const Shape s(q, heads);
    const bool drop = training && dropout > 0;
    const float keep_scale = drop ? static_cast<float>(1.0 / (1.0 - dropout)) : 1.0f;
    const at::Tensor mask = additive_mask.contiguous();
    const HeadView Q(q, s.head_size), K(k, s.head_size), V(v, s.head_size);
    const float* mask_data = mask.data_ptr<float>();
    const int64_t n = s.block_elements();

    // scores = scale q k^T + mask.
    at::Tensor scores = at::empty({s.batch, s.heads, s.tokens, s.tokens}, q.options());
    float* scores_data = scores.data_ptr<float>();
    at::parallel_for(0, s.blocks(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t block = begin; block < end; ++block) {
        const int64_t b = block / s.heads, h = block % s.heads;
        float* out = scores_data + block * n;
        RowMajorGemm(false, true, s.tokens, s.tokens, s.head_size, s.scale, Q.block(b, h), Q.row_stride,
                     K.block(b, h), K.row_stride, 0.0f, out, s.tokens);
        const float* row_mask = mask_data + b * s.tokens;
        for (int64_t i = 0; i < s.tokens; ++i) {
          float* row = out + i * s.tokens;
          for (int64_t j = 0; j < s.tokens; ++j) row[j] += row_mask[j];
        }
      }
    });
    const at::Tensor probs = at::_softmax(scores, -1, false);
    scores.reset();

    // context = dropout(probs) v, written straight into [batch, tokens, heads * head_size].
    at::Tensor context = at::empty({s.batch, s.tokens, s.heads * s.head_size}, q.options());
    at::Tensor keeps = drop ? at::empty(probs.sizes(), q.options().dtype(at::kByte)) : at::Tensor();
    const HeadView C(context, s.head_size);
    const float* probs_data = probs.data_ptr<float>();
    uint8_t* keep_data = drop ? keeps.data_ptr<uint8_t>() : nullptr;
    at::parallel_for(0, s.blocks(), 1, [&](int64_t begin, int64_t end) {
      std::vector<float> dropped(drop ? static_cast<size_t>(n) : 0);
      for (int64_t block = begin; block < end; ++block) {
        const int64_t b = block / s.heads, h = block % s.heads;
        const float* used = probs_data + block * n;
        if (drop) {
          DropoutKeeps(dropout, static_cast<uint64_t>(seed), block * n, n, keep_data + block * n);
          ApplyDropout(used, keep_data + block * n, keep_scale, n, dropped.data());
          used = dropped.data();
        }
        RowMajorGemm(false, false, s.tokens, s.head_size, s.tokens, 1.0f, used, s.tokens, V.block(b, h),
                     V.row_stride, 0.0f, C.block(b, h), C.row_stride);
      }
    });
    ctx->save_for_backward({q, k, v, probs, keeps});
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["keep_scale"] = static_cast<double>(keep_scale);
    ctx->mark_non_differentiable({probs});
    return {context, probs};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3], &keeps = saved[4];
    const Shape s(q, ctx->saved_data["heads"].toInt());
    const float keep_scale = static_cast<float>(ctx->saved_data["keep_scale"].toDouble());
    const bool drop = keeps.defined();
    if (!grads[0].defined()) return variable_list(8);  // no gradient for any of forward's 8 inputs
    const at::Tensor grad_context = grads[0].contiguous();
    at::Tensor dq = at::empty({s.batch, s.tokens, s.heads * s.head_size}, q.options());
    at::Tensor dk = at::empty_like(dq), dv = at::empty_like(dq);
    const HeadView Q(q, s.head_size), K(k, s.head_size), V(v, s.head_size), dO(grad_context, s.head_size);
    const HeadView dQ(dq, s.head_size), dK(dk, s.head_size), dV(dv, s.head_size);
    const float* probs_data = probs.data_ptr<float>();
    const uint8_t* keep_data = drop ? keeps.data_ptr<uint8_t>() : nullptr;
    const int64_t n = s.block_elements();

    // context = dropped v: dv = dropped^T d_context; d_probs = dropout'(d_context v^T).
    at::Tensor d_probs = at::empty(probs.sizes(), probs.options());
    float* d_probs_data = d_probs.data_ptr<float>();
    at::parallel_for(0, s.blocks(), 1, [&](int64_t begin, int64_t end) {
      std::vector<float> dropped(drop ? static_cast<size_t>(n) : 0);
      for (int64_t block = begin; block < end; ++block) {
        const int64_t b = block / s.heads, h = block % s.heads;
        const float* used = probs_data + block * n;
        const uint8_t* keep = drop ? keep_data + block * n : nullptr;
        if (drop) {
          ApplyDropout(used, keep, keep_scale, n, dropped.data());
          used = dropped.data();
        }
        RowMajorGemm(true, false, s.tokens, s.head_size, s.tokens, 1.0f, used, s.tokens, dO.block(b, h),
                     dO.row_stride, 0.0f, dV.block(b, h), dV.row_stride);
        float* dp = d_probs_data + block * n;
        RowMajorGemm(false, true, s.tokens, s.tokens, s.head_size, 1.0f, dO.block(b, h), dO.row_stride,
                     V.block(b, h), V.row_stride, 0.0f, dp, s.tokens);
        if (drop) ApplyDropout(dp, keep, keep_scale, n, dp);
      }
    });
    const at::Tensor d_scores = at::_softmax_backward_data(d_probs, probs, -1, at::kFloat);
    d_probs.reset();

    // scores = scale q k^T: dq = scale d_scores k, dk = scale d_scores^T q.
    const float* d_scores_data = d_scores.data_ptr<float>();
    at::parallel_for(0, s.blocks(), 1, [&](int64_t begin, int64_t end) {
      for (int64_t block = begin; block < end; ++block) {
        const int64_t b = block / s.heads, h = block % s.heads;
        const float* ds = d_scores_data + block * n;
        RowMajorGemm(false, false, s.tokens, s.head_size, s.tokens, s.scale, ds, s.tokens, K.block(b, h),
                     K.row_stride, 0.0f, dQ.block(b, h), dQ.row_stride);
        RowMajorGemm(true, false, s.tokens, s.head_size, s.tokens, s.scale, ds, s.tokens, Q.block(b, h),
                     Q.row_stride, 0.0f, dK.block(b, h), dK.row_stride);
      }
    });
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

void CheckShapes(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& additive_mask,
                 int64_t heads) {
  TORCH_CHECK(q.dim() == 3 && q.sizes() == k.sizes() && q.sizes() == v.sizes(),
              "attention: q, k and v must be [batch, tokens, hidden] alike, got ", q.sizes(), ", ", k.sizes(), ", ",
              v.sizes());
  TORCH_CHECK(heads > 0 && q.size(2) % heads == 0, "attention: hidden size ", q.size(2), " is not a multiple of ",
              heads, " heads");
  TORCH_CHECK(additive_mask.dim() == 2 && additive_mask.size(0) == q.size(0) && additive_mask.size(1) == q.size(1),
              "attention: the mask must be [batch, tokens] = [", q.size(0), ", ", q.size(1), "], got ",
              additive_mask.sizes());
}

}  // namespace

bool CanFuseAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& additive_mask) {
  for (const at::Tensor* t : {&q, &k, &v, &additive_mask}) {
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat) return false;
  }
  for (const at::Tensor* t : {&q, &k, &v}) {
    if (t->stride(2) != 1 || t->stride(1) < t->size(2)) return false;
  }
  return true;
}

AttentionResult FusedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& additive_mask, int64_t heads, double dropout, bool training,
                               uint64_t seed) {
  CheckShapes(q, k, v, additive_mask, heads);
  TORCH_CHECK(CanFuseAttention(q, k, v, additive_mask),
              "FusedAttention takes float32 CPU tensors whose rows are contiguous");
  TORCH_CHECK(dropout >= 0 && dropout < 1, "attention dropout must be in [0, 1), got ", dropout);
  variable_list out = FusedAttentionFunction::apply(q, k, v, additive_mask, heads, dropout, training,
                                                    static_cast<int64_t>(seed));
  return {out[0], out[1]};
}

AttentionResult ReferenceAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const at::Tensor& additive_mask, int64_t heads, double dropout, bool training,
                                   uint64_t seed) {
  CheckShapes(q, k, v, additive_mask, heads);
  const int64_t batch = q.size(0), tokens = q.size(1), head_size = q.size(2) / heads;
  auto split_heads = [&](const at::Tensor& t) {
    return t.view({batch, tokens, heads, head_size}).transpose(1, 2);  // [b, heads, t, d]
  };
  const at::Tensor scores = at::matmul(split_heads(q), split_heads(k).transpose(-1, -2)) /
                            std::sqrt(static_cast<double>(head_size));
  const at::Tensor probs = at::softmax(scores + additive_mask.view({batch, 1, 1, tokens}), -1);
  at::Tensor used = probs;
  if (training && dropout > 0) {
    used = probs.device().is_cpu() ? probs * DropoutMask(probs.sizes(), dropout, seed).to(probs.scalar_type())
                                   : Dropout(probs, dropout, true);
  }
  const at::Tensor context =
      at::matmul(used, split_heads(v)).transpose(1, 2).reshape({batch, tokens, heads * head_size});
  return {context, probs};
}

AttentionResult MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                   const at::Tensor& additive_mask, int64_t heads, double dropout, bool training,
                                   bool want_probabilities) {
  const bool draws = training && dropout > 0 && q.device().is_cpu();
  const uint64_t seed = draws ? DrawDropoutSeed() : 0;
  AttentionResult out = CanFuseAttention(q, k, v, additive_mask)
                            ? FusedAttention(q, k, v, additive_mask, heads, dropout, training, seed)
                            : ReferenceAttention(q, k, v, additive_mask, heads, dropout, training, seed);
  if (!want_probabilities) out.probabilities = at::Tensor();
  return out;
}

}  // namespace textclf::torch_support
