// Dropout for training on the CPU without libtorch's per-element Bernoulli draws.
//
// Debian's libtorch 1.13 has no MKL, so torch::dropout draws each keep/drop decision serially
// through mt19937: about 13 ns per element, which made dropout a third of a BERT pretraining
// step (4 layers, hidden 128: ~3 M elements per step). This one hashes (seed, index) with
// SplitMix64, so the mask is built in parallel and independent of the thread count, and the
// seed is drawn from libtorch's default generator, so torch::manual_seed still reproduces a run.
// CUDA tensors keep torch::dropout (its kernel is fast).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace textclf::torch_support {

// x itself when !training or p == 0; otherwise x * mask with mask in {0, 1 / (1 - p)}.
// p must be in [0, 1). Differentiable: the gradient is the same mask.
at::Tensor Dropout(const at::Tensor& x, double p, bool training);

// The mask Dropout multiplies by, for a given seed (exposed for tests).
at::Tensor DropoutMask(at::IntArrayRef sizes, double p, uint64_t seed);

// For kernels that apply dropout themselves (core/torch/fused_attention.cc): keep[i] is 1 where
// DropoutMask(sizes, p, seed) holds 1 / (1 - p) at flat index first + i, 0 where it holds 0.
void DropoutKeeps(double p, uint64_t seed, int64_t first, int64_t count, uint8_t* keep);

// A seed from libtorch's default generator, as Dropout draws one per call.
uint64_t DrawDropoutSeed();

}  // namespace textclf::torch_support
