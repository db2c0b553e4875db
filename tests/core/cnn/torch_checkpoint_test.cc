// The torch.save reader without libtorch: archives written by hand read back as float tensors,
// from a file or from memory; crafted archives (lying sizes, overflowing shapes and strides) are
// refused by name, never allocated or indexed blindly.
#include "core/cnn/torch_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <limits>

#include "core/common/files.h"
#include "tests/core/cnn/checkpoint_bytes.h"
#include "tests/support/test_support.h"

namespace textclf::cnn {
namespace {

using ::testing::HasSubstr;
using testing::TensorSpec;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

absl::StatusOr<std::map<std::string, CheckpointTensor>> Parse(const std::string& archive,
                                                               const CheckpointLimits& limits = {}) {
  return ParseTorchCheckpoint(archive, "crafted.pth", limits);
}

std::string OneTensor(const TensorSpec& spec, const std::string& storage) {
  return testing::TorchArchive(testing::StateDictPickle({spec}), {{spec.key, storage}});
}

TEST(TorchCheckpoint, ReadsStridedViewsFromAFileAndFromMemory) {
  // The transpose of a 2x3 storage, and a bias at offset 6 of the same storage.
  const std::string archive = testing::TorchArchive(
      testing::StateDictPickle({{.name = "w", .storage_numel = 8, .shape = {3, 2}, .stride = {1, 3}},
                                {.name = "b", .storage_numel = 8, .offset = 6, .shape = {2}, .stride = {1}}}),
      {{"0", testing::FloatStorageBytes(8)}});
  ::textclf::testing::TempDir dir;
  ASSERT_TRUE(WriteFileDurably(dir.path() / "model.pth", archive).ok());
  for (const auto& read : {ReadTorchCheckpoint(dir.path() / "model.pth"), Parse(archive)}) {
    ASSERT_TRUE(read.ok()) << read.status();
    ASSERT_EQ(read->size(), 2u);
    EXPECT_EQ(read->at("w").shape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(read->at("w").values, (std::vector<float>{0, 3, 1, 4, 2, 5}));
    EXPECT_EQ(read->at("b").values, (std::vector<float>{6, 7}));
    EXPECT_EQ(read->at("b").dtype, "FloatStorage");
  }
}

// Zip member names are up to 64 KiB long: a name that filled the reader's 1 KiB buffer was left
// without its terminating NUL and read past the buffer, and minizip's unzLocateFile finds no
// name of 256 bytes or more.
TEST(TorchCheckpoint, LongMemberNamesAreReadWhole) {
  const std::string prefix = std::string(2000, 'p') + "/";
  const std::string archive = testing::TorchArchive(
      testing::StateDictPickle({{.name = "w", .storage_numel = 2, .shape = {2}, .stride = {1}}}),
      {{"0", testing::FloatStorageBytes(2)}}, prefix);
  auto read = Parse(archive);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->at("w").values, (std::vector<float>{0, 1}));
}

// The reader allocated a member's declared size before reading it: a few bytes claiming a
// gigabyte took a gigabyte. Now memory follows the data that arrives.
TEST(TorchCheckpoint, ClaimedMemberSizesAreNotAllocatedUpFront) {
  const uint32_t claimed = 1u << 30;
  // A deflated data.pkl of 200 bytes that claims 1 GiB (and enough compressed bytes to hold it,
  // which the padding member makes the archive large enough to contain).
  const std::string archive = testing::ZipArchive(
      {{.name = "archive/data.pkl", .data = std::string(200, 'x'), .deflate = true, .claimed_size = claimed,
        .claimed_compressed_size = claimed / 1000},
       {.name = "archive/padding", .data = std::string(claimed / 1000 + 1000, 'p')}});
  rusage before;
  getrusage(RUSAGE_SELF, &before);
  auto read = Parse(archive);
  rusage after;
  getrusage(RUSAGE_SELF, &after);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("truncated"));
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 256 * 1024) << "KiB of peak memory grew";
}

TEST(TorchCheckpoint, ClaimsBeyondTheCompressedBytesOrTheLimitAreRefused) {
  const std::string pickle = testing::StateDictPickle({});
  // Stored members are their own size.
  auto stored = Parse(testing::ZipArchive({{.name = "archive/data.pkl", .data = pickle, .claimed_size = 1u << 31}}));
  ASSERT_FALSE(stored.ok());
  EXPECT_THAT(stored.status().message(), HasSubstr("cannot hold"));
  // Deflate expands at most 1032-fold.
  auto deflated = Parse(testing::ZipArchive(
      {{.name = "archive/data.pkl", .data = pickle, .deflate = true, .claimed_size = 1u << 31}}));
  ASSERT_FALSE(deflated.ok());
  EXPECT_THAT(deflated.status().message(), HasSubstr("cannot hold"));
  // The caller's limit covers the members and the tensors built from them.
  const std::string archive =
      OneTensor({.name = "w", .storage_numel = 1000, .shape = {1000}, .stride = {1}}, testing::FloatStorageBytes(1000));
  EXPECT_TRUE(Parse(archive, {.max_bytes = 10'000}).ok());
  auto limited = Parse(archive, {.max_bytes = 6'000});
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(limited.status().message(), HasSubstr("tensor w needs 4000 bytes"));
}

// Strides of 2^63 - 1 in two dimensions summed to -2, which passed the bounds check; the copy
// then read 2^63 elements past the storage.
TEST(TorchCheckpoint, StridesThatOverflowAreRefused) {
  auto read = Parse(OneTensor({.name = "w", .storage_numel = 4, .shape = {2, 2}, .stride = {kInt64Max, kInt64Max}},
                              testing::FloatStorageBytes(4)));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("tensor w has sizes and strides that overflow 64 bits"));

  auto offset = Parse(OneTensor({.name = "w", .storage_numel = 4, .offset = kInt64Max, .shape = {2}, .stride = {1}},
                                testing::FloatStorageBytes(4)));
  ASSERT_FALSE(offset.ok());
  EXPECT_THAT(offset.status().message(), HasSubstr("overflow"));
}

// A shape of (2^62 + 1) x 4 has 4 elements modulo 2^64: it passed as a 4-element tensor with an
// impossible shape.
TEST(TorchCheckpoint, ElementCountsThatOverflowAreRefused) {
  auto read = Parse(OneTensor({.name = "w", .storage_numel = 1, .shape = {kInt64Max / 2 + 2, 4}, .stride = {0, 0}},
                              testing::FloatStorageBytes(1)));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("overflow 64 bits"));
  // Empty, yet its other sizes multiply past 2^63: libtorch's strides for it would overflow.
  auto empty = Parse(OneTensor({.name = "w", .storage_numel = 1, .shape = {0, int64_t{1} << 40, int64_t{1} << 40},
                                .stride = {0, 0, 0}},
                               testing::FloatStorageBytes(1)));
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("overflow 64 bits"));
}

// With stride 0 a one-element storage passed the bounds check for any size, and 2^40 elements
// were allocated.
TEST(TorchCheckpoint, TensorsLargerThanTheirStorageAreRefused) {
  auto read = Parse(OneTensor({.name = "w", .storage_numel = 1, .shape = {int64_t{1} << 40}, .stride = {0}},
                              testing::FloatStorageBytes(1)));
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("tensor w has 1099511627776 elements; its storage 0 holds 1"));
}

TEST(TorchCheckpoint, BadArchivesAreNamed) {
  EXPECT_THAT(Parse("not a zip").status().message(), HasSubstr("crafted.pth is not a zip archive"));
  auto no_pickle = Parse(testing::ZipArchive({{.name = "archive/other", .data = "x"}}));
  EXPECT_THAT(no_pickle.status().message(), HasSubstr("no data.pkl"));
  auto no_storage = Parse(testing::TorchArchive(
      testing::StateDictPickle({{.name = "w", .storage_numel = 1, .shape = {1}, .stride = {1}}}), {}));
  EXPECT_THAT(no_storage.status().message(), HasSubstr("no member archive/data/0"));
  auto reach = Parse(OneTensor({.name = "w", .storage_numel = 2, .offset = 1, .shape = {2}, .stride = {1}},
                               testing::FloatStorageBytes(2)));
  EXPECT_THAT(reach.status().message(), HasSubstr("reaches element 2 of storage 0, which holds 2"));
}

}  // namespace
}  // namespace textclf::cnn
