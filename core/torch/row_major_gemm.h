// One float matrix product on raw row-major memory, through the system BLAS (libblas.so.3, which
// Debian points at OpenBLAS when it is installed), with no tensors around it. For kernels that
// run many small products inside one at::parallel_for (core/torch/fused_attention.cc): there,
// at::mm's views, checks and dispatch per call cost about as much as a 64 x 64 x 32 product.
#pragma once

#include <cstdint>

namespace textclf::torch_support {

// C = alpha * op(A) * op(B) + beta * C, where op(A) is m x k, op(B) is k x n and C is m x n,
// all row-major with the given leading dimensions (the distance between rows, in floats).
// op(X) is X, or its transpose when transpose_x. Dimensions must fit in an int (BLAS's).
void RowMajorGemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace textclf::torch_support
