#include "core/torch/row_major_gemm.h"

#include <c10/util/Exception.h>

#include <limits>

// The Fortran BLAS entry point: every libblas.so.3 (reference, OpenBLAS, BLIS) exports it, and
// Debian's are built with 32-bit integers.
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

namespace textclf::torch_support {
namespace {

int AsBlasInt(int64_t value, const char* what) {
  TORCH_CHECK(value >= 0 && value <= std::numeric_limits<int>::max(), "RowMajorGemm: ", what, " = ", value,
              " does not fit the BLAS's int");
  return static_cast<int>(value);
}

}  // namespace

void RowMajorGemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  // A row-major matrix is the column-major storage of its transpose, so C = op(A) op(B) is
  // computed as C^T = op(B)^T op(A)^T in the BLAS's column-major terms: operands swapped, each
  // keeping its own transpose flag.
  const int mi = AsBlasInt(m, "m"), ni = AsBlasInt(n, "n"), ki = AsBlasInt(k, "k");
  const int lda_i = AsBlasInt(lda, "lda"), ldb_i = AsBlasInt(ldb, "ldb"), ldc_i = AsBlasInt(ldc, "ldc");
  const char ta = transpose_a ? 'T' : 'N', tb = transpose_b ? 'T' : 'N';
  sgemm_(&tb, &ta, &ni, &mi, &ki, &alpha, b, &ldb_i, a, &lda_i, &beta, c, &ldc_i);
}

}  // namespace textclf::torch_support
