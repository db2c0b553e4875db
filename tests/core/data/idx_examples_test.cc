#include "core/data/idx_examples.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace textclf::data {
namespace {

// An uncompressed unsigned-byte IDX file: magic 0x0000 08 rank, big-endian dimensions, data.
void WriteIdx(const std::filesystem::path& path, const std::vector<uint32_t>& dims, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.put(0).put(0).put(0x08).put(static_cast<char>(dims.size()));
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) out.put(static_cast<char>((d >> shift) & 0xff));
  }
  out << data;
}

class IdxExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("idx-examples-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    // Three 2x3 images whose bytes say which image they are, labelled 1, 0, 7.
    std::string pixels;
    for (char image = 0; image < 3; ++image) pixels += std::string(6, static_cast<char>(10 + image));
    WriteIdx(dir_ / "images", {3, 2, 3}, pixels);
    WriteIdx(dir_ / "labels", {3}, std::string("\x01\x00\x07", 3));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(IdxExamplesTest, ImagesBecomeUint8TensorsWithNamedLabels) {
  auto examples = ReadIdxExamples(dir_ / "images", dir_ / "labels", 0, 0, {"zero", "one"});
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 3u);
  const v1::Tensor& t = (*examples)[2].tensor();
  EXPECT_EQ(std::vector<int64_t>(t.shape().begin(), t.shape().end()), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(t.dtype(), v1::UINT8);
  EXPECT_EQ(t.data(), std::string(6, static_cast<char>(12)));
  EXPECT_EQ((*examples)[0].label(), "one");
  EXPECT_EQ((*examples)[1].label(), "zero");
  EXPECT_EQ((*examples)[2].label(), "7") << "labels past the names stay numbers";
}

TEST_F(IdxExamplesTest, OffsetAndLimitPickASlice) {
  auto examples = ReadIdxExamples(dir_ / "images", dir_ / "labels", 1, 1, {});
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 1u);
  EXPECT_EQ((*examples)[0].tensor().data(), std::string(6, static_cast<char>(11)));
  EXPECT_EQ((*examples)[0].label(), "0");
}

TEST_F(IdxExamplesTest, MismatchedFilesAreRefusedByName) {
  WriteIdx(dir_ / "short-labels", {2}, std::string("\x01\x00", 2));
  auto examples = ReadIdxExamples(dir_ / "images", dir_ / "short-labels", 0, 0, {});
  ASSERT_FALSE(examples.ok());
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(examples.status().message().find("short-labels"), std::string::npos) << examples.status();
  EXPECT_FALSE(ReadIdxExamples(dir_ / "images", dir_ / "missing", 0, 0, {}).ok());
  // A limit cuts both files to the same count, which once hid the mismatch.
  EXPECT_FALSE(ReadIdxExamples(dir_ / "images", dir_ / "short-labels", 0, 1, {}).ok());
}

// Images of 2^48 bytes each, announced by a header whose product wraps to 0: the file passed as
// empty, and slicing its first image threw std::out_of_range (textclf train aborted).
TEST_F(IdxExamplesTest, OverflowingImageSizesAreRefused) {
  WriteIdx(dir_ / "huge-images", {1u << 16, 1u << 24, 1u << 24}, "");
  WriteIdx(dir_ / "many-labels", {1u << 16}, std::string(1 << 16, '\0'));
  auto examples = ReadIdxExamples(dir_ / "huge-images", dir_ / "many-labels", 0, 0, {});
  ASSERT_FALSE(examples.ok());
  EXPECT_EQ(examples.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(examples.status().message().find("huge-images"), std::string::npos) << examples.status();
}

TEST_F(IdxExamplesTest, LimitsThatOverflowMeanAll) {
  auto examples = ReadIdxExamples(dir_ / "images", dir_ / "labels", 1, std::numeric_limits<int64_t>::max(), {});
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_EQ(examples->size(), 2u);
}

}  // namespace
}  // namespace textclf::data
