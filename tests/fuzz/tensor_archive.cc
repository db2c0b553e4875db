// Fuzzes the CNN weights file (tensor_archive.h): parsing, then dequantizing every tensor, which
// must give as many floats as its shape holds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cnn/tensor_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tensors = textclf::cnn::ParseArchive(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.tcw");
  if (!tensors.ok()) return 0;
  for (const auto& t : *tensors) {
    auto floats = t.Floats();
    if (floats.ok() && static_cast<int64_t>(floats->size()) != t.numel()) __builtin_trap();
  }
  return 0;
}
