#include "core/torch/torch_device_context.h"

#include <torch/torch.h>

#include "core/torch/cuda_devices.h"

namespace textclf::torch_support {

TorchDeviceContext::TorchDeviceContext(const Device& device)
    : device_(device.kind == Device::Kind::kCuda ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device.index))
                                                 : torch::Device(torch::kCPU)) {
#if TEXTCLF_WITH_CUDA
  if (device_.is_cuda()) {
    c10::cuda::CUDAGuard guard(device_);
    stream_ = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_.index());
    c10::cuda::setCurrentCUDAStream(*stream_);
  }
#endif
}

torch::Tensor TorchDeviceContext::HostBuffer(int64_t elements, torch::Dtype dtype) {
  if (!host_buffer_.defined() || host_buffer_.numel() < elements || host_buffer_.scalar_type() != dtype) {
    auto options = torch::TensorOptions().dtype(dtype);
    if (device_.is_cuda()) options = options.pinned_memory(true);
    host_buffer_ = torch::empty({std::max<int64_t>(elements, 1)}, options);
  }
  return host_buffer_.narrow(0, 0, elements);
}

torch::Tensor TorchDeviceContext::ToDevice(const torch::Tensor& host) const {
  if (!device_.is_cuda()) return host;
  return host.to(device_, /*non_blocking=*/host.is_pinned());
}

TorchDeviceContext& ContextFor(const Device& device) {
  if (auto* ctx = dynamic_cast<TorchDeviceContext*>(device.context)) return *ctx;
  thread_local TorchDeviceContext cpu(Device{});
  return cpu;
}

bool BuiltWithCuda() { return TEXTCLF_WITH_CUDA != 0; }

int CudaDeviceCount() {
#if TEXTCLF_WITH_CUDA
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
#else
  return 0;
#endif
}

std::unique_ptr<DeviceContext> MakeDeviceContext(const Device& device) {
  if (device.kind != Device::Kind::kCuda) return nullptr;
  return std::make_unique<TorchDeviceContext>(device);
}

}  // namespace textclf::torch_support
