#include "core/torch/training_linear.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/torch/row_major_gemm.h"

namespace textclf::torch_support {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Fewer tokens than this per share, and the split costs more than it saves.
constexpr int64_t kMinRowsPerShare = 256;

void AddRows(const float* rows, int64_t count, int64_t width, float* sums) {
  for (int64_t r = 0; r < count; ++r) {
    const float* row = rows + r * width;
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) sums[j] += row[j];
  }
}

struct SplitGradientLinearFunction : public torch::autograd::Function<SplitGradientLinearFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias) {
    const at::Tensor rows = x.reshape({-1, x.size(-1)}).contiguous();
    const at::Tensor y = at::addmm(bias, rows, weight.t());
    ctx->save_for_backward({rows, weight});
    ctx->saved_data["input_sizes"] = x.sizes();
    std::vector<int64_t> out_sizes = x.sizes().vec();
    out_sizes.back() = weight.size(0);
    return {y.view(out_sizes)};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return variable_list(3);
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1];
    const int64_t rows = x.size(0), in = x.size(1), out = weight.size(0);
    const at::Tensor g = grads[0].reshape({rows, out}).contiguous();
    at::Tensor grad_x;
    if (ctx->needs_input_grad(0)) grad_x = at::mm(g, weight).view(ctx->saved_data["input_sizes"].toIntVector());
    if (!ctx->needs_input_grad(1) && !ctx->needs_input_grad(2)) return {grad_x, at::Tensor(), at::Tensor()};

    const int64_t shares = std::clamp<int64_t>(rows / kMinRowsPerShare, 1, at::get_num_threads());
    at::Tensor weight_parts = at::empty({shares, out, in}, g.options());
    at::Tensor bias_parts = at::zeros({shares, out}, g.options());
    const float* g_data = g.data_ptr<float>();
    const float* x_data = x.data_ptr<float>();
    float* w_parts = weight_parts.data_ptr<float>();
    float* b_parts = bias_parts.data_ptr<float>();
    at::parallel_for(0, shares, 1, [&](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s) {
        const int64_t first = s * rows / shares, count = (s + 1) * rows / shares - first;
        RowMajorGemm(true, false, out, in, count, 1.0f, g_data + first * out, out, x_data + first * in, in, 0.0f,
                     w_parts + s * out * in, in);
        AddRows(g_data + first * out, count, out, b_parts + s * out);
      }
    });
    const at::Tensor grad_weight = shares == 1 ? weight_parts[0] : weight_parts.sum(0);
    const at::Tensor grad_bias = shares == 1 ? bias_parts[0] : bias_parts.sum(0);
    return {grad_x, ctx->needs_input_grad(1) ? grad_weight : at::Tensor(),
            ctx->needs_input_grad(2) ? grad_bias : at::Tensor()};
  }
};

}  // namespace

bool CanSplitLinearGradient(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  for (const at::Tensor* t : {&x, &weight, &bias}) {
    if (!t->defined() || !t->device().is_cpu() || t->scalar_type() != at::kFloat) return false;
  }
  return true;
}

at::Tensor SplitGradientLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  TORCH_CHECK(x.dim() >= 1 && weight.dim() == 2 && x.size(-1) == weight.size(1) && bias.dim() == 1 &&
                  bias.size(0) == weight.size(0),
              "linear: x [..., ", weight.dim() == 2 ? weight.size(1) : -1, "], weight [out, in] and bias [out] ",
              "expected, got ", x.sizes(), ", ", weight.sizes(), ", ", bias.sizes());
  TORCH_CHECK(CanSplitLinearGradient(x, weight, bias), "SplitGradientLinear takes float32 CPU tensors");
  return SplitGradientLinearFunction::apply(x, weight, bias)[0];
}

at::Tensor TrainingLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  const bool wants_gradient = at::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad());
  if (wants_gradient && CanSplitLinearGradient(x, weight, bias)) return SplitGradientLinear(x, weight, bias);
  return at::linear(x, weight, bias);
}

}  // namespace textclf::torch_support
