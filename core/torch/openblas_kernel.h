// OpenBLAS picks its kernels by CPU model when it loads. Bookworm's 0.3.21 does not know models
// newer than itself: on a 2026 Xeon (family 6, model 207) it falls back to its generic
// "Prescott" (SSE3) kernels, and sgemm runs at 32 GFLOPS on a core where its AVX-512 "SkylakeX"
// kernels reach 135 (bench/sgemm_bench). Its choice is made in the library's load-time
// constructor, from OPENBLAS_CORETYPE, so a process cannot change it once running: the server
// and the benches call UseFastestOpenBlasKernel first thing in main, which sets the variable and
// runs the program again in place (execv of /proc/self/exe, same pid and arguments) when
// OpenBLAS fell back on a CPU it has faster kernels for. An explicit OPENBLAS_CORETYPE is left
// alone, as is any other BLAS.
#pragma once

#include <string>
#include <string_view>

namespace textclf::torch_support {

struct CpuVectorUnits {
  bool avx512 = false;    // AVX-512 F, BW, DQ and VL, enabled by the OS (SkylakeX's kernels)
  bool avx2_fma = false;  // AVX2 and FMA (Haswell's)
};

// What this CPU and its OS support.
CpuVectorUnits DetectCpuVectorUnits();

// The kernel name of the loaded OpenBLAS ("Prescott", "Haswell", ...), or "" when libblas.so.3
// is not OpenBLAS.
std::string LoadedOpenBlasCore();

// The OPENBLAS_CORETYPE to run with, or "" to keep OpenBLAS's choice: only its generic fallback
// is replaced, by the widest kernels the CPU can run.
std::string OpenBlasCoreToForce(std::string_view loaded_core, const CpuVectorUnits& cpu);

// Runs the program again with OPENBLAS_CORETYPE set when OpenBlasCoreToForce says so and the
// variable is unset; returns otherwise (also when execv fails). Call before any thread starts.
void UseFastestOpenBlasKernel(char** argv);

}  // namespace textclf::torch_support
