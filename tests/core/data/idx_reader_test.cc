// IDX files: plain and gzip files read alike; headers whose dimensions overflow, or that announce
// less (or more) data than the file holds, are refused without reading more than they announce.
#include "core/data/idx_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <fstream>

#include "tests/support/test_support.h"

namespace textclf::data {
namespace {

using ::testing::HasSubstr;

std::string IdxHeader(const std::vector<uint32_t>& dims) {
  std::string out = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  return out;
}

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class IdxReaderTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(IdxReaderTest, PlainAndGzipFilesReadAlikeAndMaxItemsKeepsTheFirst) {
  const std::string bytes = IdxHeader({3, 2}) + "abcdef";
  WriteFile(dir_.path() / "plain", bytes);
  gzFile gz = gzopen((dir_.path() / "packed.gz").c_str(), "wb");
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
  for (const char* name : {"plain", "packed.gz"}) {
    auto all = ReadIdx(dir_.path() / name);
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(all->dims, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(all->data, "abcdef");
    auto first = ReadIdx(dir_.path() / name, 1);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->items(), 1);
    EXPECT_EQ(first->file_items, 3);
    EXPECT_EQ(first->data, "ab");
  }
}

TEST_F(IdxReaderTest, MaxItemsStillChecksTheWholeFile) {
  WriteFile(dir_.path() / "short", IdxHeader({3, 2}) + "abcde");
  auto read = ReadIdx(dir_.path() / "short", 1);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("expected 6 data bytes, found 5"));
  WriteFile(dir_.path() / "long", IdxHeader({3, 2}) + "abcdefg");
  EXPECT_THAT(ReadIdx(dir_.path() / "long", 1).status().message(), HasSubstr("expected 6 data bytes, found more"));
}

TEST_F(IdxReaderTest, ShortAndForeignHeadersAreNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abc", "too short"},
      {std::string("\0\0\x08\0", 4), "its header declares no dimensions"},
      {std::string("\0\0\x0d\x01", 4) + IdxHeader({1}).substr(4), "element type 0xd is not unsigned byte"},
      {IdxHeader({2, 3}).substr(0, 9), "truncated header"},
      {"\x1f\x8b garbage", "bad cannot be read: unknown compression method"}};
  for (const auto& [bytes, message] : cases) {
    WriteFile(dir_.path() / "bad", bytes);
    auto read = ReadIdx(dir_.path() / "bad");
    ASSERT_FALSE(read.ok()) << message;
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(read.status().message()), HasSubstr(message));
  }
}

// 2^16 x 2^24 x 2^24 bytes is 2^64: the product wrapped to 0 and an empty file passed as 65536
// images of 2^48 bytes each.
TEST_F(IdxReaderTest, DimensionsWhoseProductOverflowsAreRefused) {
  WriteFile(dir_.path() / "images", IdxHeader({1u << 16, 1u << 24, 1u << 24}));
  auto read = ReadIdx(dir_.path() / "images");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read.status().message(), HasSubstr("its dimensions hold more than"));
  // Zero items do not excuse an impossible item size.
  WriteFile(dir_.path() / "empty", IdxHeader({0, 0xffffffffu, 0xffffffffu, 0xffffffffu}));
  EXPECT_THAT(ReadIdx(dir_.path() / "empty").status().message(), HasSubstr("its dimensions hold more than"));
}

TEST_F(IdxReaderTest, HeadersAnnouncingMoreThanTheLimitAreRefused) {
  WriteFile(dir_.path() / "big", IdxHeader({2000}) + std::string(2000, 'x'));
  EXPECT_TRUE(ReadIdx(dir_.path() / "big").ok());
  auto read = ReadIdx(dir_.path() / "big", 0, 1000);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("hold more than 1000 bytes"));
}

// The whole file was read into memory before the header was checked: ten announced bytes
// followed by a gzip stream of 256 MiB took 256 MiB (and more while the string grew).
TEST_F(IdxReaderTest, DataBeyondTheAnnouncedSizeIsNotRead) {
  const auto path = dir_.path() / "bomb.gz";
  gzFile gz = gzopen(path.c_str(), "wb1");
  const std::string header = IdxHeader({10});
  gzwrite(gz, header.data(), static_cast<unsigned>(header.size()));
  const std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 256; ++i) gzwrite(gz, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(gz);
  rusage before;
  getrusage(RUSAGE_SELF, &before);
  auto read = ReadIdx(path);
  rusage after;
  getrusage(RUSAGE_SELF, &after);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("expected 10 data bytes, found more"));
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024) << "KiB of peak memory grew";
}

}  // namespace
}  // namespace textclf::data
