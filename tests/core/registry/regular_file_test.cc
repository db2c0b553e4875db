#include "core/registry/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "core/common/files.h"
#include "tests/support/test_support.h"

namespace textclf::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(ManifestPathTest, AcceptsRelativeNormalizedPaths) {
  for (const char* path : {"weights.bin", "dicts/0.zdict", "encoder/config.json", "a.b/.c"}) {
    EXPECT_TRUE(ValidateManifestPath(path).ok()) << path;
  }
}

TEST(ManifestPathTest, RefusesPathsThatCouldLeaveTheVersionFolder) {
  for (const std::string& path : std::vector<std::string>{"", "/etc/passwd", "../x", "a/../../x", "a/..", "./a", "a/./b", "a//b", "a/",
                                 std::string("a\0b", 3), std::string(5000, 'a')}) {
    absl::Status s = ValidateManifestPath(path);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(s.message(), HasSubstr("relative paths inside the version folder"));
  }
}

class RegularFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "v" / "sub");
    ASSERT_TRUE(WriteFileDurably(dir_.path() / "v" / "sub" / "f.bin", "content").ok());
    ASSERT_TRUE(WriteFileDurably(dir_.path() / "outside.bin", "secret").ok());
  }
  fs::path version() const { return dir_.path() / "v"; }
  testing::TempDir dir_;
};

TEST_F(RegularFileTest, ReadsARegularFileWithItsSize) {
  auto file = RegularFile::OpenBeneath(version(), "sub/f.bin");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), 7u);
  EXPECT_EQ(*file->Read(), "content");
  EXPECT_EQ(RegularFile::OpenBeneath(version(), "sub/none.bin").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegularFileTest, OpensAFifoWithoutBlockingAndRefusesIt) {
  ASSERT_EQ(::mkfifo((version() / "pipe").c_str(), 0644), 0);
  auto opened = std::async(std::launch::async, [&] { return RegularFile::OpenBeneath(version(), "pipe").status(); });
  if (opened.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "opening a FIFO blocked";
    const int fd = ::open((version() / "pipe").c_str(), O_WRONLY | O_NONBLOCK);  // lets it return
    if (fd >= 0) ::close(fd);
  }
  const absl::Status s = opened.get();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(s.message(), HasSubstr("not a regular file"));
}

TEST_F(RegularFileTest, RefusesSymbolicLinksAnywhereOnThePath) {
  fs::create_symlink(dir_.path() / "outside.bin", version() / "link.bin");
  fs::create_directory_symlink(dir_.path(), version() / "up");
  EXPECT_EQ(RegularFile::OpenBeneath(version(), "link.bin").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RegularFile::OpenBeneath(version(), "up/outside.bin").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RegularFile::OpenBeneath(version(), "sub").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RegularFile::OpenBeneath(version(), "../outside.bin").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegularFileTest, SmallFilesAreCappedBeforeReading) {
  auto read = ReadSmallRegularFile(version() / "sub", "f.bin", 3);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(read.status().message(), HasSubstr("7 bytes"));
  EXPECT_EQ(*ReadSmallRegularFile(version() / "sub", "f.bin", 7), "content");
}

}  // namespace
}  // namespace textclf::registry
