// Symmetric weight quantization: error bounds per bit-width, per-channel scales, the symmetric
// range, and the bit packing that stores the integers.
#include "core/cnn/weight_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace textclf::cnn {
namespace {

std::vector<float> RandomWeights(size_t n, uint64_t seed, float spread = 1.f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, spread);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  return w;
}

TEST(WeightQuantizer, RoundTripErrorIsAtMostHalfAStepAtEveryBitWidth) {
  const std::vector<float> w = RandomWeights(4 * 300, 1);
  for (int bits = 2; bits <= 8; ++bits) {
    const QuantizedWeights q = QuantizeSymmetric(w, 4, bits);
    const std::vector<float> back = Dequantize(q);
    double max_error = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      const float scale = q.scales[i / 300];
      EXPECT_LE(std::fabs(w[i] - back[i]), scale / 2 * (1 + 1e-5f)) << "bits " << bits << " index " << i;
      max_error = std::max<double>(max_error, std::fabs(w[i] - back[i]));
    }
    // The bound tightens with every bit: the step halves.
    const float max_abs = *std::max_element(q.scales.begin(), q.scales.end()) * SymmetricMax(bits);
    EXPECT_LE(max_error, max_abs / SymmetricMax(bits) / 2 * 1.0001) << bits;
  }
}

TEST(WeightQuantizer, MeanErrorShrinksAsBitsGrow) {
  const std::vector<float> w = RandomWeights(2000, 2);
  double previous = 1e9;
  for (int bits = 2; bits <= 8; ++bits) {
    const std::vector<float> back = Dequantize(QuantizeSymmetric(w, 1, bits));
    double sum = 0;
    for (size_t i = 0; i < w.size(); ++i) sum += std::fabs(w[i] - back[i]);
    EXPECT_LT(sum / w.size(), previous) << bits;
    previous = sum / w.size();
  }
}

TEST(WeightQuantizer, PerChannelScalesFollowEachChannelsLargestMagnitude) {
  // Channel 0 is 100 times smaller than channel 1: per-channel scales keep its resolution.
  std::vector<float> w = {0.01f, -0.02f, 0.005f, 1.f, -2.f, 0.5f};
  const QuantizedWeights q = QuantizeSymmetric(w, 2, 8);
  ASSERT_EQ(q.scales.size(), 2u);
  // max|w| / 127, rounded to the bfloat16 the file stores: within 2^-8.
  EXPECT_NEAR(q.scales[0], 0.02f / 127, 0.02f / 127 / 256);
  EXPECT_NEAR(q.scales[1], 2.f / 127, 2.f / 127 / 256);
  EXPECT_EQ(q.values[1], -127);
  EXPECT_EQ(q.values[4], -127);
  const QuantizedWeights per_tensor = QuantizeSymmetric(w, 1, 8);
  ASSERT_EQ(per_tensor.scales.size(), 1u);
  EXPECT_EQ(per_tensor.scales[0], q.scales[1]);
  // Per tensor, the small channel collapses to a couple of levels.
  EXPECT_EQ(per_tensor.values[0], 1);
  EXPECT_EQ(per_tensor.values[1], -1);
}

TEST(WeightQuantizer, ScalesRoundToTheNearestBfloat16) {
  for (float x : {1e-30f, 3.3e-7f, 0.0157480314f, 1.f, 2.f / 127, 12345.678f}) {
    const float r = RoundScale(x);
    uint32_t bits;
    std::memcpy(&bits, &r, sizeof(bits));
    EXPECT_EQ(bits & 0xffffu, 0u) << x;
    EXPECT_LE(std::fabs(r - x), x / 256) << x;
    EXPECT_EQ(RoundScale(r), r);
  }
  EXPECT_EQ(RoundScale(1.f), 1.f);
  EXPECT_EQ(RoundScale(0.f), 0.f);
  // Every value of a random tensor, at every bit-width: the largest magnitude maps to +-qmax.
  const std::vector<float> w = RandomWeights(5000, 7);
  for (int bits = 2; bits <= 8; ++bits) {
    const QuantizedWeights q = QuantizeSymmetric(w, 1, bits);
    int peak = 0;
    for (int8_t v : q.values) peak = std::max<int>(peak, std::abs(v));
    EXPECT_EQ(peak, SymmetricMax(bits)) << bits;
  }
}

TEST(WeightQuantizer, RangeIsSymmetricAndUsesBothEnds) {
  for (int bits = 2; bits <= 8; ++bits) {
    const int qmax = SymmetricMax(bits);
    const QuantizedWeights q = QuantizeSymmetric(std::vector<float>{-3.f, 3.f, 1.f, -0.5f}, 1, bits);
    int lo = 0, hi = 0;
    for (int8_t v : q.values) {
      EXPECT_GE(v, -qmax);
      EXPECT_LE(v, qmax);
      lo = std::min<int>(lo, v);
      hi = std::max<int>(hi, v);
    }
    EXPECT_EQ(lo, -qmax) << bits;
    EXPECT_EQ(hi, qmax) << bits;
  }
  EXPECT_EQ(SymmetricMax(2), 1);
  EXPECT_EQ(SymmetricMax(8), 127);
}

TEST(WeightQuantizer, AllZeroChannelGetsScaleZeroAndDequantizesToZero) {
  const QuantizedWeights q = QuantizeSymmetric(std::vector<float>{0, 0, 1, -1}, 2, 4);
  EXPECT_EQ(q.scales[0], 0.f);
  const std::vector<float> back = Dequantize(q);
  EXPECT_EQ(back[0], 0.f);
  EXPECT_EQ(back[1], 0.f);
  EXPECT_EQ(q.values[2], 7);
  EXPECT_NEAR(back[2], 1.f, 1.f / 256);  // 7 times the bfloat16 of 1/7
}

TEST(WeightQuantizer, PackingRoundTripsAndTakesBitsPerValue) {
  std::mt19937_64 rng(3);
  for (int bits = 2; bits <= 8; ++bits) {
    const int qmax = SymmetricMax(bits);
    std::uniform_int_distribution<int> value(-qmax, qmax);
    std::vector<int8_t> values(1001);
    for (int8_t& v : values) v = static_cast<int8_t>(value(rng));
    const std::string packed = PackBits(values, bits);
    EXPECT_EQ(packed.size(), (values.size() * bits + 7) / 8) << bits;
    auto back = UnpackBits(packed, static_cast<int64_t>(values.size()), bits);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, values) << bits;
  }
}

TEST(WeightQuantizer, UnpackingTheWrongNumberOfBytesIsDataLoss) {
  const std::string packed = PackBits(std::vector<int8_t>{1, -1, 0, 1}, 4);
  auto short_read = UnpackBits(packed.substr(0, 1), 4, 4);
  ASSERT_FALSE(short_read.ok());
  EXPECT_EQ(short_read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(short_read.status().message().find("need 2"), std::string::npos) << short_read.status();
}

}  // namespace
}  // namespace textclf::cnn
