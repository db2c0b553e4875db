// Reading texts and labels from named columns of small hand-written files.
#include "core/data/labeled_csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/common/files.h"
#include "tests/support/test_support.h"

namespace textclf::data {
namespace {

TEST(ReadLabeledCsv, JoinsTextColumnsWithOneSpaceSkippingEmptyOnes) {
  testing::TempDir dir;
  const auto path = dir.path() / "news.csv";
  ASSERT_TRUE(WriteFileDurably(path,
                               "label,title,description\n"
                               "1,Title,Body text\n"
                               "2,,\"Only, a body\"\n"
                               "3,Only a title,\n")
                  .ok());
  const std::vector<std::string> columns = {"title", "description"};
  auto read = ReadLabeledCsv(path, columns, "label");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->texts, (std::vector<std::string>{"Title Body text", "Only, a body", "Only a title"}));
  EXPECT_EQ(read->labels, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(read->lines, (std::vector<int64_t>{2, 3, 4}));
}

TEST(ReadLabeledCsv, ReadsUnlabeledTextsWhenTheLabelColumnIsEmpty) {
  testing::TempDir dir;
  const auto path = dir.path() / "texts.csv";
  ASSERT_TRUE(WriteFileDurably(path, "text\nfirst\n\"second\nline\"\nthird\n").ok());
  const std::vector<std::string> columns = {"text"};
  auto read = ReadLabeledCsv(path, columns, "");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->texts, (std::vector<std::string>{"first", "second\nline", "third"}));
  EXPECT_TRUE(read->labels.empty());
  EXPECT_EQ(read->lines, (std::vector<int64_t>{2, 3, 5}));
}

TEST(ReadLabeledCsv, NamesAMissingColumn) {
  testing::TempDir dir;
  const auto path = dir.path() / "texts.csv";
  ASSERT_TRUE(WriteFileDurably(path, "headline,clickbait\nx,1\n").ok());
  const std::vector<std::string> columns = {"headline"};
  auto read = ReadLabeledCsv(path, columns, "label");
  ASSERT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("\"label\""), std::string_view::npos);
  EXPECT_NE(read.status().message().find("headline, clickbait"), std::string_view::npos);
}

TEST(ReadLabeledCsv, RejectsAnEmptyListOfTextColumns) {
  testing::TempDir dir;
  const auto path = dir.path() / "texts.csv";
  ASSERT_TRUE(WriteFileDurably(path, "text\nx\n").ok());
  EXPECT_EQ(ReadLabeledCsv(path, {}, "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace textclf::data
