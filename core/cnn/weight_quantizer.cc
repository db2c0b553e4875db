#include "core/cnn/weight_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace textclf::cnn {

float RoundScale(float scale) {
  if (!(scale > 0) || !std::isfinite(scale)) return scale > 0 ? scale : 0.f;
  uint32_t bits;
  std::memcpy(&bits, &scale, sizeof(bits));
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;  // to nearest, ties to even
  float out;
  std::memcpy(&out, &bits, sizeof(out));
  return out;
}

QuantizedWeights QuantizeSymmetric(std::span<const float> weights, int64_t channels, int bits) {
  QuantizedWeights q;
  q.bits = bits;
  channels = std::max<int64_t>(1, channels);
  const size_t slice = weights.size() / static_cast<size_t>(channels);
  const int qmax = SymmetricMax(bits);
  q.scales.resize(static_cast<size_t>(channels));
  q.values.resize(weights.size());
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    std::span<const float> w = weights.subspan(c * slice, slice);
    float max_abs = 0;
    for (float x : w) max_abs = std::max(max_abs, std::fabs(x));
    const float scale = RoundScale(max_abs / static_cast<float>(qmax));
    q.scales[c] = scale;
    for (size_t i = 0; i < slice; ++i) {
      const float r = scale > 0 ? std::nearbyint(w[i] / scale) : 0.f;
      q.values[c * slice + i] = static_cast<int8_t>(std::clamp(r, -static_cast<float>(qmax), static_cast<float>(qmax)));
    }
  }
  return q;
}

std::vector<float> Dequantize(const QuantizedWeights& q) {
  std::vector<float> out(q.values.size());
  const size_t channels = std::max<size_t>(1, q.scales.size());
  const size_t slice = q.values.size() / channels;
  for (size_t i = 0; i < q.values.size(); ++i) {
    out[i] = static_cast<float>(q.values[i]) * (q.scales.empty() ? 0.f : q.scales[slice ? i / slice : 0]);
  }
  return out;
}

std::string PackBits(std::span<const int8_t> values, int bits) {
  std::string out;
  out.reserve((values.size() * static_cast<size_t>(bits) + 7) / 8);
  const uint32_t mask = (1u << bits) - 1;
  uint32_t buffer = 0;
  int filled = 0;
  for (int8_t v : values) {
    buffer |= (static_cast<uint32_t>(static_cast<uint8_t>(v)) & mask) << filled;
    filled += bits;
    while (filled >= 8) {
      out.push_back(static_cast<char>(buffer & 0xff));
      buffer >>= 8;
      filled -= 8;
    }
  }
  if (filled > 0) out.push_back(static_cast<char>(buffer & 0xff));
  return out;
}

absl::StatusOr<std::vector<int8_t>> UnpackBits(std::string_view packed, int64_t count, int bits) {
  if (bits < 2 || bits > 8) return absl::DataLossError(absl::StrCat("packed weights of ", bits, " bits"));
  const uint64_t expected = (static_cast<uint64_t>(count) * static_cast<uint64_t>(bits) + 7) / 8;
  if (count < 0 || packed.size() != expected) {
    return absl::DataLossError(absl::StrCat("packed weights hold ", packed.size(), " bytes, ", count,
                                            " values of ", bits, " bits need ", expected));
  }
  std::vector<int8_t> values(static_cast<size_t>(count));
  const uint32_t mask = (1u << bits) - 1;
  const uint32_t sign = 1u << (bits - 1);
  uint32_t buffer = 0;
  int filled = 0;
  size_t next = 0;
  for (int64_t i = 0; i < count; ++i) {
    while (filled < bits) {
      buffer |= static_cast<uint32_t>(static_cast<uint8_t>(packed[next++])) << filled;
      filled += 8;
    }
    const uint32_t code = buffer & mask;
    buffer >>= bits;
    filled -= bits;
    values[static_cast<size_t>(i)] = static_cast<int8_t>(code & sign ? static_cast<int32_t>(code) - (1 << bits)
                                                                     : static_cast<int32_t>(code));
  }
  return values;
}

}  // namespace textclf::cnn
