// exp(x) for x <= 0, written so that the compiler vectorises loops over it: softmax's exponent
// after the row maximum is subtracted. Our code is compiled for any x86-64, where glibc's vector
// expf is only declared under -ffast-math, so a plain std::exp loop runs one element at a time
// (a third of a masked-LM loss pass); this runs four at a time with SSE2 alone.
//
// Range reduction to exp(r) * 2^n with |r| <= ln(2)/2 and a degree-6 polynomial (Cephes' expf
// coefficients): within 2 ulp of std::exp over [-87, 0]. Below -87 (where the float exponent
// runs out) it returns exp(-87) ~ 1.6e-38, which a softmax sum cannot tell from 0. NaN stays NaN.
#pragma once

#include <bit>
#include <cstdint>

namespace textclf::torch_support {

// Always inlined, so that a caller built for a wider instruction set (target_clones) has it
// inlined, and vectorised, too.
[[gnu::always_inline]] inline float ExpNonPositive(float x) {
  constexpr float kLowest = -87.0f;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2High = 0.693359375f;       // ln 2 in few bits, so n * kLn2High is exact
  constexpr float kLn2Low = -2.12194440e-4f;     // ln 2 - kLn2High
  constexpr float kRoundMagic = 12582912.0f;     // 1.5 * 2^23: adding it rounds to an integer
  x = x < kLowest ? kLowest : x;                 // keeps NaN (the comparison is false)
  const float shifted = x * kLog2e + kRoundMagic;
  const float n = shifted - kRoundMagic;         // round(x / ln 2), in [-126, 0]
  const int32_t exponent = std::bit_cast<int32_t>(shifted) - std::bit_cast<int32_t>(kRoundMagic);
  const float r = x - n * kLn2High - n * kLn2Low;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float exp_r = p * r * r + r + 1.0f;
  const float two_to_n = std::bit_cast<float>(static_cast<int32_t>(static_cast<uint32_t>(exponent + 127) << 23));
  return exp_r * two_to_n;
}

}  // namespace textclf::torch_support
