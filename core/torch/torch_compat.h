// The one place where libtorch versions differ for textclf: Debian's CPU libtorch 1.13 and the
// CUDA libtorch 2.x given through CMAKE_PREFIX_PATH. Include this instead of spelling versions.
#pragma once

#include <torch/version.h>

#define TEXTCLF_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

#if TEXTCLF_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace textclf::torch_compat {

// "1.13.0", for logs and manifests.
inline const char* Version() { return TORCH_VERSION; }

}  // namespace textclf::torch_compat
