// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
// little-endian data. Reading keeps views into the caller's bytes, so a checkpoint is copied once,
// into the tensors that use it.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::encoder {

// Float types hold weights; the integer and boolean ones appear as buffers (e.g. position_ids)
// and are read only to be skipped or converted.
enum class SafeDType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

std::string_view SafeDTypeName(SafeDType dtype);
size_t SafeDTypeBytes(SafeDType dtype);

struct SafeTensorView {
  std::string name;
  SafeDType dtype = SafeDType::kF32;
  std::vector<int64_t> shape;
  std::string_view data;  // into the parsed bytes

  int64_t elements() const;
};

class SafetensorsReader {
 public:
  // Checks the header and that every tensor's range lies inside `bytes` and matches its shape.
  // `bytes` must outlive the reader.
  static absl::StatusOr<SafetensorsReader> Parse(std::string_view bytes);

  const std::vector<SafeTensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Null when absent.
  const SafeTensorView* Find(std::string_view name) const;

 private:
  std::vector<SafeTensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A tensor's values as float32, converting any dtype.
std::vector<float> ToFloat32(const SafeTensorView& tensor);
void ToFloat32(const SafeTensorView& tensor, std::span<float> out);

// One tensor to write, from float32 values stored as `dtype`.
struct SafeTensorToWrite {
  std::string name;
  std::vector<int64_t> shape;
  std::span<const float> values;
  SafeDType dtype = SafeDType::kF32;
};

// The file's bytes: tensors in the given order, the header padded to 8 bytes.
absl::StatusOr<std::string> WriteSafetensors(std::span<const SafeTensorToWrite> tensors,
                                             const std::map<std::string, std::string>& metadata = {});

// IEEE half and bfloat16 conversions (round to nearest even).
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);
uint16_t FloatToBFloat16(float value);
float BFloat16ToFloat(uint16_t bits);

}  // namespace textclf::encoder
