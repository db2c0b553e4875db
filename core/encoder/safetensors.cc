#include "core/encoder/safetensors.h"

#include <bit>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace textclf::encoder {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader copies it as is");

// Headers beyond this are not checkpoints but corrupt length fields (the format caps at 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

constexpr SafeDType kAllDTypes[] = {SafeDType::kF64, SafeDType::kF32, SafeDType::kF16, SafeDType::kBF16, SafeDType::kI64,
                                    SafeDType::kI32, SafeDType::kI16, SafeDType::kI8,  SafeDType::kU8,   SafeDType::kBool};

absl::StatusOr<SafeDType> ParseDType(const std::string& name, const std::string& tensor) {
  for (SafeDType d : kAllDTypes) {
    if (SafeDTypeName(d) == name) return d;
  }
  return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", tensor, " has dtype ", name,
                                                 ", which this reader does not know"));
}

template <typename T>
void Convert(const char* p, size_t n, std::span<float> out) {
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + sizeof(T) * i, sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

}  // namespace

std::string_view SafeDTypeName(SafeDType dtype) {
  switch (dtype) {
    case SafeDType::kF64: return "F64";
    case SafeDType::kF32: return "F32";
    case SafeDType::kF16: return "F16";
    case SafeDType::kBF16: return "BF16";
    case SafeDType::kI64: return "I64";
    case SafeDType::kI32: return "I32";
    case SafeDType::kI16: return "I16";
    case SafeDType::kI8: return "I8";
    case SafeDType::kU8: return "U8";
    case SafeDType::kBool: return "BOOL";
  }
  return "?";
}

size_t SafeDTypeBytes(SafeDType dtype) {
  switch (dtype) {
    case SafeDType::kF64:
    case SafeDType::kI64: return 8;
    case SafeDType::kF32:
    case SafeDType::kI32: return 4;
    case SafeDType::kF16:
    case SafeDType::kBF16:
    case SafeDType::kI16: return 2;
    default: return 1;
  }
}

int64_t SafeTensorView::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

absl::StatusOr<SafetensorsReader> SafetensorsReader::Parse(std::string_view bytes) {
  if (bytes.size() < 8) {
    return absl::InvalidArgumentError(absl::StrCat("safetensors: ", bytes.size(),
                                                   " bytes is too short for the 8-byte header length"));
  }
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  if (header_size > kMaxHeaderBytes || header_size > bytes.size() - 8) {
    return absl::InvalidArgumentError(absl::StrCat("safetensors: the header length ", header_size,
                                                   " exceeds the file (", bytes.size(), " bytes)"));
  }
  const std::string_view data = bytes.substr(8 + header_size);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, header_size), nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) {
    return absl::InvalidArgumentError("safetensors: the header is not a JSON object");
  }
  SafetensorsReader reader;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) return absl::InvalidArgumentError("safetensors: __metadata__ is not an object");
      for (auto& [key, value] : entry.items()) {
        if (value.is_string()) reader.metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() || !entry.contains("shape") ||
        !entry["shape"].is_array() || !entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("safetensors: tensor ", name, " needs dtype, shape and two data_offsets"));
    }
    SafeTensorView view;
    view.name = name;
    auto dtype = ParseDType(entry["dtype"].get<std::string>(), name);
    if (!dtype.ok()) return dtype.status();
    view.dtype = *dtype;
    // The sizes are the file's: each must fit int64 and their product, in bytes, 64 bits, or a
    // wrapped product would pass the size check below with an impossible shape.
    uint64_t expected = SafeDTypeBytes(view.dtype);
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", name, " has a bad shape"));
      }
      view.shape.push_back(d.get<int64_t>());
      if (__builtin_mul_overflow(expected, d.get<uint64_t>(), &expected)) {
        return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", name, " has a shape of more than 2^64 bytes"));
      }
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", name, " has bad data_offsets"));
    }
    const uint64_t begin = offsets[0].get<uint64_t>();
    const uint64_t end = offsets[1].get<uint64_t>();
    if (begin > end || end > data.size()) {
      return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", name, " lies at bytes [", begin, ", ",
                                                     end, ") beyond the ", data.size(), " data bytes"));
    }
    if (end - begin != expected) {
      return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", name, " has ", end - begin,
                                                     " bytes but its shape needs ", expected));
    }
    view.data = data.substr(begin, end - begin);
    reader.tensors_.push_back(std::move(view));
  }
  return reader;
}

const SafeTensorView* SafetensorsReader::Find(std::string_view name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

void ToFloat32(const SafeTensorView& tensor, std::span<float> out) {
  const size_t n = static_cast<size_t>(tensor.elements());
  const char* p = tensor.data.data();
  switch (tensor.dtype) {
    case SafeDType::kF32: std::memcpy(out.data(), p, n * 4); return;
    case SafeDType::kF16:
    case SafeDType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, p + 2 * i, 2);
        out[i] = tensor.dtype == SafeDType::kF16 ? HalfToFloat(bits) : BFloat16ToFloat(bits);
      }
      return;
    case SafeDType::kF64: Convert<double>(p, n, out); return;
    case SafeDType::kI64: Convert<int64_t>(p, n, out); return;
    case SafeDType::kI32: Convert<int32_t>(p, n, out); return;
    case SafeDType::kI16: Convert<int16_t>(p, n, out); return;
    case SafeDType::kI8: Convert<int8_t>(p, n, out); return;
    case SafeDType::kU8:
    case SafeDType::kBool: Convert<uint8_t>(p, n, out); return;
  }
}

std::vector<float> ToFloat32(const SafeTensorView& tensor) {
  std::vector<float> out(static_cast<size_t>(tensor.elements()));
  ToFloat32(tensor, out);
  return out;
}

absl::StatusOr<std::string> WriteSafetensors(std::span<const SafeTensorToWrite> tensors,
                                             const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    int64_t elements = 1;
    for (int64_t d : t.shape) elements *= d;
    if (elements != static_cast<int64_t>(t.values.size())) {
      return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", t.name, " has ", t.values.size(),
                                                     " values but its shape holds ", elements));
    }
    if (header.contains(t.name)) {
      return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", t.name, " is given twice"));
    }
    const uint64_t bytes = static_cast<uint64_t>(elements) * SafeDTypeBytes(t.dtype);
    header[t.name] = {{"dtype", std::string(SafeDTypeName(t.dtype))}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string json = header.dump();
  // The data that follows starts 8-byte aligned, as the format recommends.
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + json.size() + offset);
  const uint64_t header_size = json.size();
  out.append(reinterpret_cast<const char*>(&header_size), 8);
  out += json;
  for (const auto& t : tensors) {
    if (t.dtype == SafeDType::kF32) {
      out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * 4);
      continue;
    }
    if (t.dtype != SafeDType::kF16 && t.dtype != SafeDType::kBF16) {
      return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor ", t.name, " can be written as F32, F16 or BF16, not ",
                                                     std::string(SafeDTypeName(t.dtype))));
    }
    for (float v : t.values) {
      const uint16_t bits = t.dtype == SafeDType::kF16 ? FloatToHalf(v) : FloatToBFloat16(v);
      out.append(reinterpret_cast<const char*>(&bits), 2);
    }
  }
  return out;
}

uint16_t FloatToHalf(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past the largest half
  if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t exponent = abs >> 23;
    const uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    // value = mantissa x 2^(exponent - 150) = half x 2^-24.
    const uint32_t shift = 126 - exponent;
    uint32_t half = mantissa >> shift;
    const uint32_t rest = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    // Round to nearest even on the bits shifted out.
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs - 0x38000000u) >> 13);
  const uint32_t rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float HalfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t out;
  if (exponent == 0) {
    if (mantissa == 0) {
      out = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while ((mantissa & 0x400u) == 0);
      out = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mantissa & 0x3ffu) << 13;
    }
  } else if (exponent == 0x1f) {
    out = sign | 0x7f800000u | mantissa << 13;
  } else {
    out = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  return std::bit_cast<float>(out);
}

uint16_t FloatToBFloat16(float value) {
  uint32_t x = std::bit_cast<uint32_t>(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

float BFloat16ToFloat(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

}  // namespace textclf::encoder
