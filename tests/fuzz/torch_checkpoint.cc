// Fuzzes the torch.save reader (zip container, data.pkl, strided tensor views) from memory, with a
// memory limit small enough for the fuzzer's RSS limit. A tensor read must hold as many values as
// its shape says.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cnn/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto tensors = textclf::cnn::ParseTorchCheckpoint(bytes, "fuzz.pth", {.max_bytes = uint64_t{64} << 20});
  if (!tensors.ok()) return 0;
  for (const auto& [name, t] : *tensors) {
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    if (numel != t.values.size()) __builtin_trap();
  }
  return 0;
}
