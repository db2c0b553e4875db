// The masked-LM loss in one differentiable step: cross-entropy(input weight^T + bias, labels),
// averaged over rows, with the predicted class of each row as a by-product.
//
// On the CPU in float32 the logits never exist as libtorch tensors of their own: one GEMM writes
// them, and a pass per row (hot in cache) adds the bias, takes the maximum, exponentiates and
// normalises them in place into the softmax that backward needs. Backward turns that softmax
// into the logits' gradient and the bias's in one pass, then two GEMMs give the input's and the
// weight's. libtorch's linear + cross_entropy instead copies the bias into the output, writes a
// log-softmax, a zero-filled NLL gradient and the log-softmax gradient, each a full pass over
// [rows, classes] (rows x 30522 floats for a BERT vocabulary): about a twelfth of a pretraining
// step of the default encoder. Other devices and types take libtorch's operations.
#pragma once

#include <ATen/core/Tensor.h>

namespace textclf::torch_support {

struct LinearCrossEntropyResult {
  at::Tensor loss;       // scalar: the mean over rows; differentiable in input, weight and bias
  at::Tensor predicted;  // [rows] int64: each row's highest-scoring class (ties: the first)
};

// input [rows, features], weight [classes, features], bias [classes], labels [rows] int64 in
// [0, classes). rows must be > 0.
LinearCrossEntropyResult LinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                                            const at::Tensor& labels);

// Both paths, for tests.
LinearCrossEntropyResult FusedLinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight,
                                                 const at::Tensor& bias, const at::Tensor& labels);
LinearCrossEntropyResult ReferenceLinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight,
                                                     const at::Tensor& bias, const at::Tensor& labels);

// Whether FusedLinearCrossEntropy takes these inputs (CPU, float32).
bool CanFuseLinearCrossEntropy(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace textclf::torch_support
