#include "core/torch/residual_layer_norm.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/torch/dropout.h"
#include "core/torch/x86_clones.h"

namespace textclf::torch_support {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per task forward; backward's shares (each with its own gamma and beta sums) hold at
// least this many rows too.
constexpr int64_t kRowsPerTask = 64;

// What a kept element is multiplied by: 1 / (1 - p), or 1 without dropout.
float KeepScale(double p) { return p > 0 ? static_cast<float>(1.0 / (1.0 - p)) : 1.0f; }

// xhat = normalise(y * keep * scale + residual) (keep == nullptr: no dropout), out = xhat gamma
// + beta. Returns 1 / sqrt(variance + eps).
TEXTCLF_X86_CLONES float ForwardRow(const float* y, const float* residual, const uint8_t* keep, float scale,
                                    int64_t width, const float* gamma, const float* beta, float eps, float* xhat,
                                    float* out) {
  if (keep != nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) xhat[j] = y[j] * (static_cast<float>(keep[j]) * scale) + residual[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) xhat[j] = y[j] + residual[j];
  }
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < width; ++j) sum += xhat[j];
  const float mean = sum / static_cast<float>(width);
  float squares = 0;
#pragma omp simd reduction(+ : squares)
  for (int64_t j = 0; j < width; ++j) squares += (xhat[j] - mean) * (xhat[j] - mean);
  const float rstd = 1.0f / std::sqrt(squares / static_cast<float>(width) + eps);
#pragma omp simd
  for (int64_t j = 0; j < width; ++j) {
    xhat[j] = (xhat[j] - mean) * rstd;
    out[j] = xhat[j] * gamma[j] + beta[j];
  }
  return rstd;
}

// LayerNorm's backward for one row: the residual's gradient, y's (through the same mask), and
// the row's share of gamma's and beta's.
TEXTCLF_X86_CLONES void BackwardRow(const float* g, const float* xhat, float rstd, const float* gamma,
                                    const uint8_t* keep, float scale, int64_t width, float* g_residual, float* g_y,
                                    float* gamma_sums, float* beta_sums) {
  float mean_g = 0, mean_g_xhat = 0;
#pragma omp simd reduction(+ : mean_g, mean_g_xhat)
  for (int64_t j = 0; j < width; ++j) {
    mean_g += g[j] * gamma[j];
    mean_g_xhat += g[j] * gamma[j] * xhat[j];
  }
  mean_g /= static_cast<float>(width);
  mean_g_xhat /= static_cast<float>(width);
#pragma omp simd
  for (int64_t j = 0; j < width; ++j) {
    g_residual[j] = rstd * (g[j] * gamma[j] - mean_g - xhat[j] * mean_g_xhat);
    gamma_sums[j] += g[j] * xhat[j];
    beta_sums[j] += g[j];
  }
  if (keep != nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) g_y[j] = g_residual[j] * (static_cast<float>(keep[j]) * scale);
  } else {
    std::copy(g_residual, g_residual + width, g_y);
  }
}

struct DropoutAddLayerNormFunction : public torch::autograd::Function<DropoutAddLayerNormFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& y, const at::Tensor& residual,
                               const at::Tensor& gamma, const at::Tensor& beta, double eps, double p, int64_t seed) {
    const int64_t width = y.size(-1);
    const at::Tensor y_rows = y.reshape({-1, width}).contiguous();
    const at::Tensor residual_rows = residual.reshape({-1, width}).contiguous();
    const at::Tensor gamma_c = gamma.contiguous(), beta_c = beta.contiguous();
    const int64_t rows = y_rows.size(0);
    at::Tensor xhat = at::empty({rows, width}, y_rows.options());
    at::Tensor out = at::empty({rows, width}, y_rows.options());
    at::Tensor rstd = at::empty({rows}, y_rows.options());
    const bool dropping = p > 0;
    const float scale = KeepScale(p);
    const float* y_data = y_rows.data_ptr<float>();
    const float* residual_data = residual_rows.data_ptr<float>();
    const float* gamma_data = gamma_c.data_ptr<float>();
    const float* beta_data = beta_c.data_ptr<float>();
    float* xhat_data = xhat.data_ptr<float>();
    float* out_data = out.data_ptr<float>();
    float* rstd_data = rstd.data_ptr<float>();
    // The mask is kept for backward (a byte per element) rather than hashed again there.
    at::Tensor keep = dropping ? at::empty({rows, width}, y_rows.options().dtype(at::kByte)) : at::Tensor();
    uint8_t* keep_data = dropping ? keep.data_ptr<uint8_t>() : nullptr;
    at::parallel_for(0, rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t at = r * width;
        if (dropping) DropoutKeeps(p, static_cast<uint64_t>(seed), at, width, keep_data + at);
        rstd_data[r] = ForwardRow(y_data + at, residual_data + at, dropping ? keep_data + at : nullptr, scale, width,
                                  gamma_data, beta_data, static_cast<float>(eps), xhat_data + at, out_data + at);
      }
    });
    ctx->save_for_backward({xhat, rstd, gamma_c, keep});
    ctx->saved_data["sizes"] = y.sizes();
    ctx->saved_data["p"] = p;
    return {out.view(y.sizes())};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return variable_list(7);
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &xhat = saved[0], &rstd = saved[1], &gamma = saved[2];
    const int64_t rows = xhat.size(0), width = xhat.size(1);
    const double p = ctx->saved_data["p"].toDouble();
    const bool dropping = p > 0;
    const uint8_t* keep_data = dropping ? saved[3].data_ptr<uint8_t>() : nullptr;
    const float scale = KeepScale(p);
    const at::Tensor g = grads[0].reshape({rows, width}).contiguous();
    at::Tensor g_y = at::empty({rows, width}, g.options());
    at::Tensor g_residual = at::empty({rows, width}, g.options());
    const int64_t shares = std::clamp<int64_t>(rows / kRowsPerTask, 1, at::get_num_threads());
    at::Tensor gamma_parts = at::zeros({shares, width}, g.options());
    at::Tensor beta_parts = at::zeros({shares, width}, g.options());
    const float* g_data = g.data_ptr<float>();
    const float* xhat_data = xhat.data_ptr<float>();
    const float* rstd_data = rstd.data_ptr<float>();
    const float* gamma_data = gamma.data_ptr<float>();
    float* g_y_data = g_y.data_ptr<float>();
    float* g_residual_data = g_residual.data_ptr<float>();
    float* gamma_sums = gamma_parts.data_ptr<float>();
    float* beta_sums = beta_parts.data_ptr<float>();
    at::parallel_for(0, shares, 1, [&](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s) {
        for (int64_t r = s * rows / shares; r < (s + 1) * rows / shares; ++r) {
          const int64_t at = r * width;
          BackwardRow(g_data + at, xhat_data + at, rstd_data[r], gamma_data, dropping ? keep_data + at : nullptr, scale,
                      width, g_residual_data + at, g_y_data + at, gamma_sums + s * width, beta_sums + s * width);
        }
      }
    });
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    const auto wanted = [&](int i, const at::Tensor& t) { return ctx->needs_input_grad(i) ? t : at::Tensor(); };
    return {wanted(0, g_y.view(sizes)),
            wanted(1, g_residual.view(sizes)),
            wanted(2, shares == 1 ? gamma_parts[0] : gamma_parts.sum(0)),
            wanted(3, shares == 1 ? beta_parts[0] : beta_parts.sum(0)),
            at::Tensor(),
            at::Tensor(),
            at::Tensor()};
  }
};

}  // namespace

bool CanFuseDropoutAddLayerNorm(const at::Tensor& y, const at::Tensor& residual, const at::Tensor& gamma,
                                const at::Tensor& beta) {
  for (const at::Tensor* t : {&y, &residual, &gamma, &beta}) {
    if (!t->defined() || !t->device().is_cpu() || t->scalar_type() != at::kFloat) return false;
  }
  return y.dim() >= 1 && y.sizes() == residual.sizes() && y.size(-1) > 0 && gamma.dim() == 1 && beta.dim() == 1 &&
         gamma.size(0) == y.size(-1) && beta.size(0) == y.size(-1);
}

at::Tensor FusedDropoutAddLayerNorm(const at::Tensor& y, const at::Tensor& residual, const at::Tensor& gamma,
                                    const at::Tensor& beta, double eps, double p, uint64_t seed) {
  TORCH_CHECK(p >= 0 && p < 1, "dropout probability must be in [0, 1), got ", p);
  TORCH_CHECK(eps > 0, "LayerNorm eps must be positive, got ", eps);
  TORCH_CHECK(CanFuseDropoutAddLayerNorm(y, residual, gamma, beta),
              "DropoutAddLayerNorm takes float32 CPU tensors: y and residual [..., hidden] of one shape, gamma and "
              "beta [hidden]; got ",
              y.sizes(), ", ", residual.sizes(), ", ", gamma.sizes(), ", ", beta.sizes());
  return DropoutAddLayerNormFunction::apply(y, residual, gamma, beta, eps, p, std::bit_cast<int64_t>(seed))[0];
}

at::Tensor DropoutAddLayerNorm(const at::Tensor& y, const at::Tensor& residual, const at::Tensor& gamma,
                               const at::Tensor& beta, double eps, double p, bool training) {
  TORCH_CHECK(p >= 0 && p < 1, "dropout probability must be in [0, 1), got ", p);
  const bool wants_gradient = at::GradMode::is_enabled() && (y.requires_grad() || residual.requires_grad() ||
                                                             gamma.requires_grad() || beta.requires_grad());
  if (wants_gradient && CanFuseDropoutAddLayerNorm(y, residual, gamma, beta)) {
    const bool dropping = training && p > 0;
    return FusedDropoutAddLayerNorm(y, residual, gamma, beta, eps, dropping ? p : 0.0,
                                    dropping ? DrawDropoutSeed() : 0);
  }
  return at::layer_norm(at::add(Dropout(y, p, training), residual), {y.size(-1)}, gamma, beta, eps);
}

}  // namespace textclf::torch_support
