#include "core/common/files.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace textclf {
namespace {

TEST(Files, WriteThenReadRoundTrips) {
  testing::TempDir dir;
  auto path = dir.path() / "a.bin";
  std::string data("abc\0def", 7);
  ASSERT_TRUE(WriteFileDurably(path, data).ok());
  auto read = ReadFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, data);
}

TEST(Files, ReadingAMissingFileIsNotFound) {
  testing::TempDir dir;
  auto read = ReadFile(dir.path() / "missing");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("missing"), std::string_view::npos);
}

TEST(Files, ReplaceFileAtomicallyLeavesNoTemporaryFiles) {
  testing::TempDir dir;
  auto path = dir.path() / "m.json";
  ASSERT_TRUE(ReplaceFileAtomically(path, "old").ok());
  ASSERT_TRUE(ReplaceFileAtomically(path, "new").ok());
  EXPECT_EQ(*ReadFile(path), "new");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(Files, ListSubdirectoriesIsSortedAndSkipsFiles) {
  testing::TempDir dir;
  std::filesystem::create_directory(dir.path() / "b");
  std::filesystem::create_directory(dir.path() / "a");
  ASSERT_TRUE(WriteFileDurably(dir.path() / "file", "x").ok());
  auto names = ListSubdirectories(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
}

TEST(Files, TreeSizeCountsNestedFiles) {
  testing::TempDir dir;
  std::filesystem::create_directory(dir.path() / "d");
  ASSERT_TRUE(WriteFileDurably(dir.path() / "d" / "x", "12345").ok());
  ASSERT_TRUE(WriteFileDurably(dir.path() / "y", "123").ok());
  EXPECT_EQ(TreeSizeBytes(dir.path()), 8u);
}

}  // namespace
}  // namespace textclf
