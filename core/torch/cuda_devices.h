// CUDA devices visible to this process (none in a build without CUDA), and the per-instance
// device context the serving runtime gives each GPU worker.
#pragma once

#include <functional>
#include <memory>

#include "core/model/model.h"

namespace textclf::torch_support {

// Whether this build has CUDA support compiled in (TEXTCLF_WITH_CUDA).
bool BuiltWithCuda();
// Devices usable now: 0 without CUDA support or without a GPU.
int CudaDeviceCount();

// Made once on each runtime instance thread. For a CUDA device it selects the device, takes a
// stream of its own from libtorch's pool and makes it the thread's current stream, so that the
// instance never waits on another's work; CPU devices need none (null).
std::unique_ptr<DeviceContext> MakeDeviceContext(const Device& device);

}  // namespace textclf::torch_support
