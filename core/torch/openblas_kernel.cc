#include "core/torch/openblas_kernel.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace textclf::torch_support {

CpuVectorUnits DetectCpuVectorUnits() {
  CpuVectorUnits cpu;
#if defined(__x86_64__)
  // GCC's checks include the OS's support (XCR0) for the wider registers.
  __builtin_cpu_init();
  cpu.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  cpu.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return cpu;
}

std::string LoadedOpenBlasCore() {
  // Looked up rather than linked: libblas.so.3 may be another BLAS, without this function.
  using CoreName = char* (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (core_name == nullptr) return "";
  const char* name = core_name();
  return name == nullptr ? "" : name;
}

std::string OpenBlasCoreToForce(std::string_view loaded_core, const CpuVectorUnits& cpu) {
  // OpenBLAS's choice for an x86-64 CPU it cannot name.
  if (loaded_core != "Prescott") return "";
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  return "";
}

void UseFastestOpenBlasKernel(char** argv) {
  if (argv == nullptr || argv[0] == nullptr || std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string core = OpenBlasCoreToForce(LoadedOpenBlasCore(), DetectCpuVectorUnits());
  if (core.empty()) return;
  // The variable is set now, so the program run again returns here at once.
  if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // execv failed: carry on with the generic kernels
}

}  // namespace textclf::torch_support
