// The weights file of a CNN model: named tensors, each either float32 or packed b-bit symmetric
// integers with per-channel (or per-tensor) scales. A small explicit format, so that quantized
// weights really take b bits on disk and a damaged file is refused with a message naming what is
// wrong, before any tensor is built from it.
//
//   "TXCNNW01"  u32 count, then per tensor:
//   u16 name length, name, u8 bits (32 or 2..8), u8 rank, i64 dims[rank],
//   bits < 32: u32 scale count (1 or dims[0]), bf16 scales[count] (the high 16 bits of a f32);
//   u64 data bytes, data (f32 values, or the packed codes of weight_quantizer.h)
// All little-endian. Nothing may follow the last tensor.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cnn/weight_quantizer.h"

namespace textclf::cnn {

struct ArchiveTensor {
  std::string name;
  std::vector<int64_t> shape;
  int bits = 32;
  std::vector<float> values;  // bits == 32
  std::vector<float> scales;  // bits < 32
  std::string packed;         // bits < 32

  int64_t numel() const;
  // Float values: `values`, or the dequantized integers.
  absl::StatusOr<std::vector<float>> Floats() const;
};

ArchiveTensor FloatTensor(std::string name, std::vector<int64_t> shape, std::vector<float> values);
ArchiveTensor PackedTensor(std::string name, std::vector<int64_t> shape, const QuantizedWeights& q);

std::string SerializeArchive(const std::vector<ArchiveTensor>& tensors);
// DATA_LOSS naming `file` and the tensor when the bytes are not a complete, consistent archive.
absl::StatusOr<std::vector<ArchiveTensor>> ParseArchive(std::string_view bytes, std::string_view file);

}  // namespace textclf::cnn
