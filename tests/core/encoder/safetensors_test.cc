#include "core/encoder/safetensors.h"

#include <cstring>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::encoder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Safetensors, RoundTripsEveryWritableDtype) {
  const std::vector<float> a = {1.f, -2.5f, 0.f, 3.25f, 65504.f, -0.125f};
  const std::vector<float> b = {0.5f, 1.f, 2.f};
  for (SafeDType dtype : {SafeDType::kF32, SafeDType::kF16, SafeDType::kBF16}) {
    SCOPED_TRACE(std::string(SafeDTypeName(dtype)));
    // All values are exact in every dtype except 65504 in BF16 (8 mantissa bits): use 65536.
    std::vector<float> a_exact = a;
    if (dtype == SafeDType::kBF16) a_exact[4] = 65536.f;
    std::vector<SafeTensorToWrite> tensors = {{"layer.weight", {2, 3}, a_exact, dtype}, {"bias", {3}, b, dtype}};
    auto bytes = WriteSafetensors(tensors, {{"format", "pt"}});
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    uint64_t header = 0;
    std::memcpy(&header, bytes->data(), 8);
    EXPECT_EQ(header % 8, 0u) << "the data should start 8-byte aligned";
    auto reader = SafetensorsReader::Parse(*bytes);
    ASSERT_TRUE(reader.ok()) << reader.status();
    ASSERT_EQ(reader->tensors().size(), 2u);
    const SafeTensorView* w = reader->Find("layer.weight");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->dtype, dtype);
    EXPECT_THAT(w->shape, ElementsAre(2, 3));
    EXPECT_EQ(ToFloat32(*w), a_exact);
    EXPECT_EQ(ToFloat32(*reader->Find("bias")), b);
    EXPECT_EQ(reader->metadata().at("format"), "pt");
  }
}

TEST(Safetensors, ReadsAFileLaidOutByHand) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"ids":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}})";
  std::string file(8, '\0');
  const uint64_t size = header.size();
  std::memcpy(file.data(), &size, 8);
  file += header;
  const float values[2] = {1.5f, -4.f};
  const int64_t id = 7;
  file.append(reinterpret_cast<const char*>(values), 8);
  file.append(reinterpret_cast<const char*>(&id), 8);
  auto reader = SafetensorsReader::Parse(file);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_THAT(ToFloat32(*reader->Find("x")), ElementsAre(1.5f, -4.f));
  EXPECT_THAT(ToFloat32(*reader->Find("ids")), ElementsAre(7.f));
  EXPECT_EQ(reader->Find("missing"), nullptr);
}

TEST(Safetensors, RejectsCorruptFilesWithAReason) {
  auto too_short = SafetensorsReader::Parse("abc");
  EXPECT_THAT(std::string(too_short.status().message()), HasSubstr("too short"));

  std::string huge(8, '\xff');
  EXPECT_THAT(std::string(SafetensorsReader::Parse(huge).status().message()), HasSubstr("header length"));

  const std::vector<float> v = {1, 2, 3};
  std::vector<SafeTensorToWrite> tensors = {{"t", {3}, v}};
  std::string bytes = *WriteSafetensors(tensors);
  bytes.resize(bytes.size() - 4);  // the data is cut short
  EXPECT_THAT(std::string(SafetensorsReader::Parse(bytes).status().message()), HasSubstr("beyond"));

  std::vector<SafeTensorToWrite> wrong = {{"t", {2, 2}, v}};
  EXPECT_THAT(std::string(WriteSafetensors(wrong).status().message()), HasSubstr("3 values"));
}

// A file of one JSON header and `data` bytes.
std::string FileWithHeader(const std::string& header, const std::string& data = "") {
  std::string file(8, '\0');
  const uint64_t size = header.size();
  std::memcpy(file.data(), &size, 8);
  return file + header + data;
}

// Shapes come from the file: [2^62, 4] floats is 2^66 bytes, which wrapped to 0 and matched an
// empty byte range; a size of 2^63 became negative on its way to int64.
TEST(Safetensors, ShapesWhoseSizeOverflowsAreRefused) {
  auto wrapped = SafetensorsReader::Parse(
      FileWithHeader(R"({"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})"));
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wrapped.status().message()), HasSubstr("tensor t has a shape of more than 2^64 bytes"));

  auto negative = SafetensorsReader::Parse(
      FileWithHeader(R"({"t":{"dtype":"U8","shape":[9223372036854775808,2],"data_offsets":[0,0]}})"));
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(std::string(negative.status().message()), HasSubstr("tensor t has a bad shape"));

  auto empty = SafetensorsReader::Parse(
      FileWithHeader(R"({"t":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}})"));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->Find("t")->elements(), 0);
}

TEST(Safetensors, HeadersThatAreNotTheExpectedJsonAreRefused) {
  for (const std::string& header : std::vector<std::string>{R"([1,2])", R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})",
                                   R"({"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}})",
                                   R"({"t":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", R"({"t":[)",
                                   std::string(100'000, '[') + std::string(100'000, ']')}) {
    auto reader = SafetensorsReader::Parse(FileWithHeader(header, std::string(4, '\0')));
    ASSERT_FALSE(reader.ok()) << header;
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(Safetensors, ConvertsHalfAndBFloat16WithRoundingToNearestEven) {
  EXPECT_EQ(FloatToHalf(1.f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.f), 0xC000);
  EXPECT_EQ(FloatToHalf(65504.f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(70000.f), 0x7C00);  // overflows to infinity
  EXPECT_EQ(FloatToHalf(1e-8f), 0x0000);    // below half the smallest subnormal
  EXPECT_EQ(FloatToHalf(6e-8f), 0x0001);    // the smallest subnormal, 2^-24
  EXPECT_EQ(FloatToHalf(1.f + 1.f / 2048), 0x3C00);      // a tie rounds to even
  EXPECT_EQ(FloatToHalf(1.f + 3.f / 2048), 0x3C02);      // a tie rounds to even, upwards
  EXPECT_FLOAT_EQ(HalfToFloat(0x0001), 5.9604645e-8f);
  EXPECT_FLOAT_EQ(HalfToFloat(0x3555), 0.33325195f);
  EXPECT_EQ(FloatToBFloat16(1.f), 0x3F80);
  EXPECT_EQ(FloatToBFloat16(1.f + 1.f / 256), 0x3F80);
  EXPECT_EQ(FloatToBFloat16(1.f + 3.f / 256), 0x3F82);
  EXPECT_FLOAT_EQ(BFloat16ToFloat(0x4049), 3.140625f);
  for (float v : {0.1f, -3.7f, 1234.5f, 1e-3f}) {
    EXPECT_NEAR(HalfToFloat(FloatToHalf(v)), v, std::abs(v) * 1e-3f);
  }
}

}  // namespace
}  // namespace textclf::encoder
