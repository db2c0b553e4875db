// LayerNorm(dropout(y) + residual): how every BERT sub-layer ends, in one pass per row while
// the encoder trains on the CPU.
//
// libtorch runs it as four kernels forward (mask, multiply, add, layer_norm) and four backward
// (layer_norm's input and parameter gradients, the mask multiply, the residual's copy), each a
// pass over a [tokens, hidden] tensor. Here forward reads y and the residual once and writes the
// normalised rows and the output; backward reads the output's gradient and the normalised rows
// once and writes both inputs' gradients, with the mask (dropout.h's, a byte per element) kept
// from forward. Elsewhere (no gradient wanted, CUDA, other types) it is libtorch's composition,
// so inference is unchanged.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace textclf::torch_support {

// y and residual [..., hidden]; gamma and beta [hidden]. Dropout with probability p applies to
// y when training (p in [0, 1)).
at::Tensor DropoutAddLayerNorm(const at::Tensor& y, const at::Tensor& residual, const at::Tensor& gamma,
                               const at::Tensor& beta, double eps, double p, bool training);

// The fused path whenever the inputs allow it, gradient or not, with the mask's seed given: for
// tests, which compare it with libtorch's composition over DropoutMask(sizes, p, seed).
at::Tensor FusedDropoutAddLayerNorm(const at::Tensor& y, const at::Tensor& residual, const at::Tensor& gamma,
                                    const at::Tensor& beta, double eps, double p, uint64_t seed);

// Whether the fused path takes these inputs (CPU, float32, same shapes).
bool CanFuseDropoutAddLayerNorm(const at::Tensor& y, const at::Tensor& residual, const at::Tensor& gamma,
                                const at::Tensor& beta);

}  // namespace textclf::torch_support
