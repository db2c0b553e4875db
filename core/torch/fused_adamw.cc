#include "core/torch/fused_adamw.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace textclf::torch_support {
namespace {

// Elements per task: large enough that a task is worth a thread, small enough that the ~1 M
// element embedding tables split across them.
constexpr int64_t kGrain = 1 << 15;

bool Fusable(const at::Tensor& parameter, const at::Tensor& grad) {
  return parameter.device().is_cpu() && parameter.scalar_type() == at::kFloat && parameter.is_contiguous() &&
         grad.device() == parameter.device() && grad.scalar_type() == at::kFloat && grad.is_contiguous() &&
         !grad.is_sparse();
}

double SquaredNorm(const at::Tensor& grad) {
  if (!Fusable(grad, grad)) return at::sum(at::square(grad.to(at::kDouble))).item<double>();
  const float* g = grad.data_ptr<float>();
  return at::parallel_reduce(
      0, grad.numel(), kGrain, 0.0,
      [&](int64_t begin, int64_t end, double partial) {
        float sum = 0;  // a task's share is short enough for float
#pragma omp simd reduction(+ : sum)
        for (int64_t i = begin; i < end; ++i) sum += g[i] * g[i];
        return partial + sum;
      },
      [](double a, double b) { return a + b; });
}

// The per-element constants of one parameter's step.
struct StepConstants {
  float grad_scale;   // the clipping factor
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float decay;        // 1 - lr * weight_decay
  float step_size;    // lr / (1 - beta1^t)
  float inv_sqrt_correction2;  // 1 / sqrt(1 - beta2^t)
  float eps;
};

void StepElements(const StepConstants& k, const float* grad, float* p, float* m, float* v, int64_t begin,
                  int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const float g = grad[i] * k.grad_scale;
    m[i] = m[i] * k.beta1 + g * k.one_minus_beta1;
    v[i] = v[i] * k.beta2 + g * g * k.one_minus_beta2;
    const float denominator = std::sqrt(v[i]) * k.inv_sqrt_correction2 + k.eps;
    p[i] = p[i] * k.decay - k.step_size * m[i] / denominator;
  }
}

// The same arithmetic as libtorch operations, for devices and types the loop does not take.
void StepWithOperations(const StepConstants& k, const at::Tensor& grad, at::Tensor& p, at::Tensor& m,
                        at::Tensor& v) {
  const at::Tensor g = k.grad_scale == 1.0f ? grad : grad.mul(k.grad_scale);
  p.mul_(k.decay);
  m.mul_(k.beta1).add_(g, k.one_minus_beta1);
  v.mul_(k.beta2).addcmul_(g, g, k.one_minus_beta2);
  p.addcdiv_(m, v.sqrt().mul_(k.inv_sqrt_correction2).add_(k.eps), -k.step_size);
}

}  // namespace

FusedAdamW::FusedAdamW(std::vector<AdamWGroup> groups, const AdamWSettings& settings) : settings_(settings) {
  TORCH_CHECK(settings.beta1 >= 0 && settings.beta1 < 1 && settings.beta2 >= 0 && settings.beta2 < 1,
              "AdamW: betas must be in [0, 1), got ", settings.beta1, ", ", settings.beta2);
  TORCH_CHECK(settings.eps > 0, "AdamW: eps must be > 0, got ", settings.eps);
  const at::NoGradGuard no_grad;
  for (AdamWGroup& group : groups) {
    for (at::Tensor& parameter : group.parameters) {
      ParameterState state;
      state.parameter = parameter;
      state.exp_avg = at::zeros_like(parameter, at::MemoryFormat::Contiguous);
      state.exp_avg_sq = at::zeros_like(parameter, at::MemoryFormat::Contiguous);
      state.weight_decay = group.weight_decay;
      states_.push_back(std::move(state));
    }
  }
}

void FusedAdamW::ClearGradients() {
  for (ParameterState& s : states_) s.parameter.mutable_grad().reset();
}

double FusedAdamW::Step(double max_grad_norm) {
  const at::NoGradGuard no_grad;
  double squared = 0;
  for (const ParameterState& s : states_) {
    if (s.parameter.grad().defined()) squared += SquaredNorm(s.parameter.grad());
  }
  const double norm = std::sqrt(squared);
  const double clip = max_grad_norm > 0 ? max_grad_norm / (norm + 1e-6) : 1.0;
  const float grad_scale = clip < 1.0 ? static_cast<float>(clip) : 1.0f;

  for (ParameterState& s : states_) {
    const at::Tensor& grad = s.parameter.grad();
    if (!grad.defined()) continue;
    ++s.steps;
    const AdamWSettings& o = settings_;
    const double correction1 = 1 - std::pow(o.beta1, static_cast<double>(s.steps));
    const double correction2 = 1 - std::pow(o.beta2, static_cast<double>(s.steps));
    const StepConstants k{grad_scale,
                          static_cast<float>(o.beta1),
                          static_cast<float>(1 - o.beta1),
                          static_cast<float>(o.beta2),
                          static_cast<float>(1 - o.beta2),
                          static_cast<float>(1 - o.learning_rate * s.weight_decay),
                          static_cast<float>(o.learning_rate / correction1),
                          static_cast<float>(1 / std::sqrt(correction2)),
                          static_cast<float>(o.eps)};
    if (!Fusable(s.parameter, grad)) {
      StepWithOperations(k, grad, s.parameter, s.exp_avg, s.exp_avg_sq);
      continue;
    }
    const float* g = grad.data_ptr<float>();
    float* p = s.parameter.data_ptr<float>();
    float* m = s.exp_avg.data_ptr<float>();
    float* v = s.exp_avg_sq.data_ptr<float>();
    at::parallel_for(0, s.parameter.numel(), kGrain,
                     [&](int64_t begin, int64_t end) { StepElements(k, g, p, m, v, begin, end); });
  }
  return norm;
}

}  // namespace textclf::torch_support
