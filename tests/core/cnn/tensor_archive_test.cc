// The weights file: float and packed tensors round-trip; damaged files are refused by name.
#include "core/cnn/tensor_archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;

std::vector<ArchiveTensor> Sample() {
  std::vector<ArchiveTensor> tensors;
  tensors.push_back(FloatTensor("fc.bias", {3}, {0.5f, -1.f, 2.f}));
  tensors.push_back(PackedTensor("fc.weight", {3, 2}, QuantizeSymmetric(std::vector<float>{1, -1, 0.5, 0.25, 3, -3}, 3, 4)));
  return tensors;
}

TEST(TensorArchive, RoundTripsFloatAndPackedTensors) {
  const std::string bytes = SerializeArchive(Sample());
  auto parsed = ParseArchive(bytes, "weights.tcw");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].name, "fc.bias");
  EXPECT_EQ((*parsed)[0].values, (std::vector<float>{0.5f, -1.f, 2.f}));
  const ArchiveTensor& w = (*parsed)[1];
  EXPECT_EQ(w.bits, 4);
  EXPECT_EQ(w.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(w.scales.size(), 3u);
  EXPECT_EQ(w.packed.size(), 3u);  // 6 values of 4 bits
  auto floats = w.Floats();
  ASSERT_TRUE(floats.ok());
  // Exactly what the quantizer's integers and (bfloat16) scales give in memory, and within half a
  // step (1/7 of the channel's largest magnitude at 4 bits) of the float weights.
  const QuantizedWeights q = QuantizeSymmetric(std::vector<float>{1, -1, 0.5, 0.25, 3, -3}, 3, 4);
  EXPECT_EQ(*floats, Dequantize(q));
  EXPECT_NEAR((*floats)[0], 1.f, 1.f / 7 / 2);
  EXPECT_NEAR((*floats)[5], -3.f, 3.f / 7 / 2);
  EXPECT_EQ((*floats)[0], -(*floats)[1]);
}

TEST(TensorArchive, TruncatedFileIsDataLossNamingTheTensor) {
  const std::string bytes = SerializeArchive(Sample());
  auto parsed = ParseArchive(bytes.substr(0, bytes.size() - 2), "weights.tcw");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(parsed.status().message(), HasSubstr("weights.tcw"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("fc.weight"));
}

TEST(TensorArchive, WrongMagicTrailingBytesAndBadBitsAreRefused) {
  const std::string bytes = SerializeArchive(Sample());
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_THAT(ParseArchive(bad_magic, "w").status().message(), HasSubstr("TXCNNW01"));
  EXPECT_THAT(ParseArchive(bytes + "x", "w").status().message(), HasSubstr("follow the last tensor"));
  // The second tensor's bits byte sits after: magic 8, count 4, tensor 0 (2 + 7 + 1 + 1 + 8 +
  // 8 + 12), name length 2 and "fc.weight".
  std::string bad_bits = bytes;
  const size_t offset = 8 + 4 + (2 + 7 + 1 + 1 + 8 + 8 + 12) + 2 + 9;
  ASSERT_EQ(bad_bits[offset], 4);
  bad_bits[offset] = 12;
  EXPECT_THAT(ParseArchive(bad_bits, "w").status().message(), HasSubstr("12-bit"));
}

// An empty tensor's values were copied with memcpy(nullptr, ..., 0): undefined behaviour that
// UBSan reported on the first fuzz run.
TEST(TensorArchive, EmptyTensorsRoundTrip) {
  auto parsed = ParseArchive(SerializeArchive({FloatTensor("empty", {0, 4}, {})}), "w");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)[0].shape, (std::vector<int64_t>{0, 4}));
  EXPECT_TRUE((*parsed)[0].values.empty());
}

// [0, 2^40, 2^40] holds no values, so the old check (on the product) let it through; its
// contiguous strides overflow int64 once libtorch builds the tensor.
TEST(TensorArchive, EmptyTensorsWithOverflowingSizesAreRefused) {
  const std::string bytes = SerializeArchive({FloatTensor("w", {0, int64_t{1} << 40, int64_t{1} << 40}, {})});
  auto parsed = ParseArchive(bytes, "w");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("tensor w has an impossible shape"));
}

}  // namespace
}  // namespace textclf::cnn
