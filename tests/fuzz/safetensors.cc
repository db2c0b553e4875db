// Fuzzes the safetensors reader: the JSON header, shapes and byte ranges, then the conversion of
// every tensor it accepts to float32.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/encoder/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto reader = textclf::encoder::SafetensorsReader::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!reader.ok()) return 0;
  for (const auto& t : reader->tensors()) {
    if (textclf::encoder::ToFloat32(t).size() != static_cast<size_t>(t.elements())) __builtin_trap();
  }
  return 0;
}
