// Fuzzes the data.pkl reader on its own: any bytes, no zip around them. Every tensor it returns
// has as many strides as sizes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cnn/state_dict_unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto entries = textclf::cnn::UnpickleStateDict(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!entries.ok()) return 0;
  for (const auto& [name, t] : *entries) {
    if (t.shape.size() != t.stride.size()) __builtin_trap();
  }
  return 0;
}
