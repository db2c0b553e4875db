// The device context of a libtorch instance: its torch device, its CUDA stream, and a pinned
// host buffer reused for copying inputs to the GPU.
#pragma once

#include <torch/types.h>

#include "core/model/model.h"
#include "core/torch/torch_compat.h"

namespace textclf::torch_support {

class TorchDeviceContext final : public DeviceContext {
 public:
  explicit TorchDeviceContext(const Device& device);

  const torch::Device& device() const { return device_; }

  // A pinned (page-locked) CPU tensor of at least `elements` values of `dtype`, reused across
  // batches so that host-to-device copies can be asynchronous on the instance's stream. On CPU
  // devices it is an ordinary tensor.
  torch::Tensor HostBuffer(int64_t elements, torch::Dtype dtype);

  // Moves a host tensor to the instance's device (non-blocking from pinned memory on CUDA).
  torch::Tensor ToDevice(const torch::Tensor& host) const;

 private:
  torch::Device device_;
  torch::Tensor host_buffer_;
#if TEXTCLF_WITH_CUDA
  std::optional<c10::cuda::CUDAStream> stream_;
#endif
};

// The context of `device`, or a CPU context when the device carries none.
TorchDeviceContext& ContextFor(const Device& device);

}  // namespace textclf::torch_support
