// AdamW with gradient clipping, as torch::optim::AdamW (no amsgrad) after
// torch::nn::utils::clip_grad_norm_, in one pass over each parameter.
//
// libtorch 1.13's AdamW makes about nine passes over every parameter's memory per step (decay,
// two for each moment, three for the denominator, the update) and clipping two more: a tenth of
// a pretraining step of the default encoder, all of it memory traffic. Here the CPU float32
// parameters are read and written once, with the clipping factor folded in; others take the same
// arithmetic as libtorch operations.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace textclf::torch_support {

struct AdamWSettings {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

struct AdamWGroup {
  std::vector<at::Tensor> parameters;
  double weight_decay = 0;
};

class FusedAdamW {
 public:
  FusedAdamW(std::vector<AdamWGroup> groups, const AdamWSettings& settings);

  void set_learning_rate(double learning_rate) { settings_.learning_rate = learning_rate; }
  double learning_rate() const { return settings_.learning_rate; }

  // Drops the parameters' gradients, so that the next backward writes each one instead of
  // adding it to a zero-filled tensor (a pass over every parameter saved).
  void ClearGradients();

  // One step. When max_grad_norm > 0, the gradients are scaled as clip_grad_norm_ would (by
  // max_grad_norm / (norm + 1e-6) when that is below 1), without writing them back. Parameters
  // without a gradient are left alone, and their step count too. Returns the gradients' global
  // L2 norm before clipping (NaN or infinity when a gradient is not finite; the step still runs,
  // as libtorch's does, and the caller decides).
  double Step(double max_grad_norm);

 private:
  struct ParameterState {
    at::Tensor parameter, exp_avg, exp_avg_sq;
    double weight_decay = 0;
    int64_t steps = 0;
  };

  AdamWSettings settings_;
  std::vector<ParameterState> states_;
};

}  // namespace textclf::torch_support
