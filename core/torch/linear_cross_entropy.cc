#include "core/torch/linear_cross_entropy.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/torch/vector_exp.h"
#include "core/torch/x86_clones.h"

namespace textclf::torch_support {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// z += bias; returns max(z).
TEXTCLF_X86_CLONES float AddBiasAndMax(float* z, const float* bias, int64_t n) {
  float top = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : top)
  for (int64_t j = 0; j < n; ++j) {
    z[j] += bias[j];
    top = z[j] > top ? z[j] : top;
  }
  return top;
}

// z = exp(z - top); returns the sum.
TEXTCLF_X86_CLONES float ExpShiftedAndSum(float* z, float top, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) z[j] = ExpNonPositive(z[j] - top);
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) sum += z[j];
  return sum;
}

TEXTCLF_X86_CLONES void Scale(float* z, float factor, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) z[j] *= factor;
}

// grad = probs * scale, and the bias's gradient gathers it.
TEXTCLF_X86_CLONES void GradientRow(const float* probs, float scale, int64_t n, float* grad, float* bias_grad) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    grad[j] = probs[j] * scale;
    bias_grad[j] += grad[j];
  }
}

int64_t FirstIndexOf(const float* z, int64_t n, float value) {
  for (int64_t j = 0; j < n; ++j) {
    if (z[j] == value) return j;
  }
  return 0;  // a row of NaN has no maximum; its loss is NaN
}

struct LinearCrossEntropyFunction : public torch::autograd::Function<LinearCrossEntropyFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                               const at::Tensor& bias, const at::Tensor& labels) {
    const at::Tensor x = input.contiguous(), w = weight.contiguous(), b = bias.contiguous(), y = labels.contiguous();
    const int64_t rows = x.size(0), classes = w.size(0);
    // Becomes the softmax, in place, row by row.
    at::Tensor probs = at::mm(x, w.t());
    at::Tensor predicted = at::empty({rows}, y.options());
    float* p = probs.data_ptr<float>();
    const float* bias_data = b.data_ptr<float>();
    const int64_t* label = y.data_ptr<int64_t>();
    int64_t* top_class = predicted.data_ptr<int64_t>();
    std::vector<double> row_loss(static_cast<size_t>(rows));
    at::parallel_for(0, rows, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float* z = p + r * classes;
        const float top = AddBiasAndMax(z, bias_data, classes);
        top_class[r] = FirstIndexOf(z, classes, top);
        const float label_logit = z[label[r]];
        const float sum = ExpShiftedAndSum(z, top, classes);
        Scale(z, 1.0f / sum, classes);
        row_loss[static_cast<size_t>(r)] = std::log(static_cast<double>(sum)) + top - label_logit;
      }
    });
    double total = 0;
    for (double l : row_loss) total += l;
    const at::Tensor loss = at::scalar_tensor(total / static_cast<double>(rows), x.options());
    ctx->save_for_backward({x, w, probs, y});
    ctx->mark_non_differentiable({predicted});
    return {loss, predicted};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return variable_list(4);
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w = saved[1], &probs = saved[2], &y = saved[3];
    const int64_t rows = probs.size(0), classes = probs.size(1);
    const float scale = grads[0].item<float>() / static_cast<float>(rows);
    // d loss / d logits = (softmax - one_hot(label)) * scale. The bias's gradient is its column
    // sum, gathered per thread chunk and added up after.
    at::Tensor grad_logits = at::empty_like(probs);
    const int64_t chunks = std::min<int64_t>(rows, std::max(1, at::get_num_threads()));
    at::Tensor bias_parts = at::zeros({chunks, classes}, probs.options());
    const float* p = probs.data_ptr<float>();
    float* g = grad_logits.data_ptr<float>();
    float* parts = bias_parts.data_ptr<float>();
    const int64_t* label = y.data_ptr<int64_t>();
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        float* part = parts + c * classes;
        for (int64_t r = c * rows / chunks; r < (c + 1) * rows / chunks; ++r) {
          GradientRow(p + r * classes, scale, classes, g + r * classes, part);
          g[r * classes + label[r]] -= scale;
          part[label[r]] -= scale;
        }
      }
    });
    const at::Tensor grad_input = ctx->needs_input_grad(0) ? at::mm(grad_logits, w) : at::Tensor();
    const at::Tensor grad_weight = ctx->needs_input_grad(1) ? at::mm(grad_logits.t(), x) : at::Tensor();
    const at::Tensor grad_bias = ctx->needs_input_grad(2) ? bias_parts.sum(0) : at::Tensor();
    return {grad_input, grad_weight, grad_bias, at::Tensor()};
  }
};

void CheckInputs(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& labels) {
  TORCH_CHECK(input.dim() == 2 && input.size(0) > 0, "cross-entropy: input must be [rows > 0, features], got ",
              input.sizes());
  TORCH_CHECK(weight.dim() == 2 && weight.size(1) == input.size(1), "cross-entropy: weight must be [classes, ",
              input.size(1), "], got ", weight.sizes());
  TORCH_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "cross-entropy: bias must be [", weight.size(0),
              "], got ", bias.sizes());
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == input.size(0) && labels.scalar_type() == at::kLong,
              "cross-entropy: labels must be int64 [", input.size(0), "], got ", labels.scalar_type(), " ",
              labels.sizes());
  const at::Tensor cpu_labels = labels.cpu().contiguous();
  const int64_t* label = cpu_labels.data_ptr<int64_t>();
  for (int64_t r = 0; r < cpu_labels.size(0); ++r) {
    TORCH_CHECK(label[r] >= 0 && label[r] < weight.size(0), "cross-entropy: label ", label[r], " of row ", r,
                " is outside [0, ", weight.size(0), ")");
  }
}

}  // namespace

bool CanFuseLinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias) {
  for (const at::Tensor* t : {&input, &weight, &bias}) {
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat) return false;
  }
  return true;
}

LinearCrossEntropyResult FusedLinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight,
                                                 const at::Tensor& bias, const at::Tensor& labels) {
  CheckInputs(input, weight, bias, labels);
  TORCH_CHECK(CanFuseLinearCrossEntropy(input, weight, bias), "FusedLinearCrossEntropy takes float32 CPU tensors");
  variable_list out = LinearCrossEntropyFunction::apply(input, weight, bias, labels.cpu());
  return {out[0], out[1]};
}

LinearCrossEntropyResult ReferenceLinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight,
                                                     const at::Tensor& bias, const at::Tensor& labels) {
  CheckInputs(input, weight, bias, labels);
  const at::Tensor logits = at::linear(input, weight, bias);
  return {at::cross_entropy_loss(logits, labels), logits.detach().argmax(1)};
}

LinearCrossEntropyResult LinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                                            const at::Tensor& labels) {
  return CanFuseLinearCrossEntropy(input, weight, bias) ? FusedLinearCrossEntropy(input, weight, bias, labels)
                                                        : ReferenceLinearCrossEntropy(input, weight, bias, labels);
}

}  // namespace textclf::torch_support
