#include "core/torch/openblas_kernel.h"

#include <gtest/gtest.h>

namespace textclf::torch_support {
namespace {

TEST(OpenBlasCoreToForce, ReplacesOnlyTheGenericFallbackWithTheWidestKernelsTheCpuRuns) {
  const CpuVectorUnits avx512{.avx512 = true, .avx2_fma = true};
  const CpuVectorUnits avx2{.avx512 = false, .avx2_fma = true};
  const CpuVectorUnits sse{};
  EXPECT_EQ(OpenBlasCoreToForce("Prescott", avx512), "SkylakeX");
  EXPECT_EQ(OpenBlasCoreToForce("Prescott", avx2), "Haswell");
  EXPECT_EQ(OpenBlasCoreToForce("Prescott", sse), "");  // an old CPU: Prescott is right
  // A CPU OpenBLAS named keeps its choice, and so does another BLAS ("").
  EXPECT_EQ(OpenBlasCoreToForce("Haswell", avx512), "");
  EXPECT_EQ(OpenBlasCoreToForce("Zen", avx512), "");
  EXPECT_EQ(OpenBlasCoreToForce("SkylakeX", avx512), "");
  EXPECT_EQ(OpenBlasCoreToForce("", avx512), "");
}

}  // namespace
}  // namespace textclf::torch_support
