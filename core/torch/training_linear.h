// y = x weight^T + bias, as torch::nn::functional::linear, for the encoder's layers while they
// train.
//
// Backward's weight gradient is grad_y^T x: a [out, in] result summed over all tokens (1792 in
// a 32 x 56 batch). OpenBLAS splits a product over its output's rows and columns only, so
// this short, deep product runs at 80-95 GFLOPS on two cores where the others reach 115-135.
// On the CPU in float32 each intra-op thread here takes its own share of the tokens, one
// single-threaded GEMM each, and the partial results are added (a 128 x 512 sum); the bias's
// gradient is gathered in the same pass. Elsewhere, and when no gradient is wanted, it is
// libtorch's linear.
#pragma once

#include <ATen/core/Tensor.h>

namespace textclf::torch_support {

// x [..., in], weight [out, in], bias [out] -> [..., out].
at::Tensor TrainingLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// The split path whenever the inputs allow it, gradient or not: for tests.
at::Tensor SplitGradientLinear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// Whether SplitGradientLinear takes these inputs (CPU, float32).
bool CanSplitLinearGradient(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace textclf::torch_support
