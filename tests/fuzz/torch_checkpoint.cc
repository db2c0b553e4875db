// Fuzzes the torch.save reader (zip container, data.pkl, strided tensor views) from memory, with a
// memory limit small enough for the fuzzer's RSS limit. An input starting with an even byte is
// the archive itself; with an odd byte it is [u16 pickle size][data.pkl][storage bytes], zipped
// here with correct CRCs (as data/0 .. data/4), so that mutations of the pickle and the storages
// reach the tensor views instead of failing the CRC. A tensor read must hold as many values as
// its shape says.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/cnn/torch_checkpoint.h"
#include "tests/core/cnn/checkpoint_bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string zipped;
  if (!input.empty() && (input[0] & 1) != 0) {
    uint16_t pickle_size = 0;
    if (input.size() < 3) return 0;
    std::memcpy(&pickle_size, input.data() + 1, 2);
    input.remove_prefix(3);
    const std::string_view pickle = input.substr(0, pickle_size);
    const std::string storage(input.substr(pickle.size()));
    zipped = textclf::cnn::testing::TorchArchive(
        std::string(pickle), {{"0", storage}, {"1", storage}, {"2", storage}, {"3", storage}, {"4", storage}});
    input = zipped;
  }
  auto tensors = textclf::cnn::ParseTorchCheckpoint(input, "fuzz.pth", {.max_bytes = uint64_t{64} << 20});
  if (!tensors.ok()) return 0;
  for (const auto& [name, t] : *tensors) {
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    if (numel != t.values.size()) __builtin_trap();
  }
  return 0;
}
