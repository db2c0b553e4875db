// Symmetric post-training quantization of weights: integers in [-(2^(b-1) - 1), 2^(b-1) - 1] times
// one scale per output channel (or per tensor), and the bit packing that stores them in b bits.
// No libtorch here, so the arithmetic is tested on plain vectors.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::cnn {

struct QuantizedWeights {
  int bits = 8;
  std::vector<float> scales;    // one per channel (slice of the first dimension), or one
  std::vector<int8_t> values;   // same layout as the float weights
};

// The largest integer of a symmetric b-bit range: 127 for 8 bits, 1 for 2 bits (ternary).
inline int SymmetricMax(int bits) { return (1 << (bits - 1)) - 1; }

// The bfloat16 value (a float whose low 16 bits are zero) nearest to `scale`, for scale >= 0:
// within 2^-8 of it, relatively.
// Scales are stored in 16 bits (bfloat16: the float exponent range, 8 significant bits), which
// keeps per-channel scales compact next to 2..8-bit codes: an embedding row of 32 values at 4
// bits takes 16 bytes of codes, and a 32-bit scale would add another quarter to that.
float RoundScale(float scale);

// Quantizes `weights`, laid out as `channels` equal slices, with scale = max|w| / qmax per slice
// (`channels` = 1: per tensor), rounded to the nearest bfloat16 (within 2^-8). A slice of zeros
// gets scale 0. Codes round to nearest and clamp to [-qmax, qmax]; every value stays within
// scale / 2 of its float (qmax * 2^-8 < 1/2), and the largest magnitude still maps to qmax.
// bits must be in [2, 8].
QuantizedWeights QuantizeSymmetric(std::span<const float> weights, int64_t channels, int bits);

// values[i] * scale of its slice.
std::vector<float> Dequantize(const QuantizedWeights& q);

// b-bit two's complement codes, least significant bit first, in a continuous bit stream.
std::string PackBits(std::span<const int8_t> values, int bits);
// The inverse; DATA_LOSS when `packed` does not hold exactly `count` values (up to the last
// byte's padding).
absl::StatusOr<std::vector<int8_t>> UnpackBits(std::string_view packed, int64_t count, int bits);

}  // namespace textclf::cnn
