// RFC 4180 edge cases, error messages with file and line, and reading speed.
#include "core/data/csv_reader.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/common/files.h"
#include "tests/support/test_support.h"

namespace textclf::data {
namespace {

using Records = std::vector<std::vector<std::string>>;

// All records after the header, or the first error.
absl::StatusOr<Records> ReadAll(CsvReader& reader) {
  if (absl::Status s = reader.ReadHeader(); !s.ok()) return s;
  Records records;
  std::vector<std::string> fields;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&fields);
    if (!more.ok()) return more.status();
    if (!*more) return records;
    records.push_back(fields);
  }
}

absl::StatusOr<Records> ReadAll(std::string data) {
  CsvReader reader = CsvReader::FromString(std::move(data));
  return ReadAll(reader);
}

TEST(CsvReader, ReadsPlainRecordsAfterTheHeader) {
  CsvReader reader = CsvReader::FromString("a,b\n1,2\n3,4\n");
  ASSERT_TRUE(reader.ReadHeader().ok());
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reader.record_line(), 1);
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(fields, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(reader.record_line(), 2);
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(fields, (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(reader.record_line(), 3);
  EXPECT_FALSE(*reader.Next(&fields));
  EXPECT_FALSE(*reader.Next(&fields));
}

TEST(CsvReader, ReadsTheLastRecordWithoutATrailingNewline) {
  EXPECT_EQ(*ReadAll("a,b\n1,2"), (Records{{"1", "2"}}));
}

TEST(CsvReader, KeepsCommasInsideQuotedFields) {
  EXPECT_EQ(*ReadAll("a,b\n\"x, y\",z\n"), (Records{{"x, y", "z"}}));
}

TEST(CsvReader, TurnsDoubledQuotesIntoOne) {
  EXPECT_EQ(*ReadAll("a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n"), (Records{{"say \"hi\"", "\""}}));
}

TEST(CsvReader, KeepsEmbeddedNewlinesAndCountsLinesAfterThem) {
  CsvReader reader = CsvReader::FromString("a,b\nx,\"one\ntwo\nthree\"\ny,z\n");
  ASSERT_TRUE(reader.ReadHeader().ok());
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(fields[1], "one\ntwo\nthree");
  EXPECT_EQ(reader.record_line(), 2);
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(fields, (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(reader.record_line(), 5);
}

TEST(CsvReader, AcceptsCrlfLineEndsAndKeepsThemInsideQuotes) {
  CsvReader reader = CsvReader::FromString("a,b\r\n1,\"x\r\ny\"\r\n3,4\r\n");
  ASSERT_TRUE(reader.ReadHeader().ok());
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"a", "b"}));
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(fields, (std::vector<std::string>{"1", "x\r\ny"}));
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(fields, (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(reader.record_line(), 4);
  EXPECT_FALSE(*reader.Next(&fields));
}

TEST(CsvReader, SkipsAUtf8ByteOrderMark) {
  CsvReader reader = CsvReader::FromString("\xEF\xBB\xBFlabel,text\n1,caf\xC3\xA9\n");
  ASSERT_TRUE(reader.ReadHeader().ok());
  EXPECT_EQ(reader.header()[0], "label");
  EXPECT_TRUE(reader.ColumnIndex("label").ok());
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(fields[1], "caf\xC3\xA9");
}

TEST(CsvReader, ReadsEmptyFieldsQuotedOrNot) {
  EXPECT_EQ(*ReadAll("a,b,c\n,,\n\"\",x,\n"), (Records{{"", "", ""}, {"", "x", ""}}));
}

TEST(CsvReader, SkipsBlankLinesBetweenRecords) {
  CsvReader reader = CsvReader::FromString("a,b\n\n1,2\r\n\r\n3,4\n\n");
  ASSERT_TRUE(reader.ReadHeader().ok());
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 3);
  ASSERT_TRUE(*reader.Next(&fields));
  EXPECT_EQ(reader.record_line(), 5);
  EXPECT_FALSE(*reader.Next(&fields));
}

TEST(CsvReader, ReportsAFieldCountMismatchWithItsLine) {
  auto records = ReadAll("a,b,c\n1,2,3\n\"multi\nline\",2,3\n4,5\n");
  ASSERT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(records.status().message(), "<input>:5: expected 3 fields, found 2");
}

TEST(CsvReader, RejectsAnUnterminatedQuoteAtTheLineItOpened) {
  auto records = ReadAll("a,b\n1,2\n3,\"never closed\n4,5\n");
  ASSERT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(records.status().message(), "<input>:3: unterminated quoted field");
}

TEST(CsvReader, RejectsAQuoteInsideAnUnquotedField) {
  auto records = ReadAll("a,b\n1,2\n3,ab\"c\n");
  ASSERT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(records.status().message(), "<input>:3: quote inside an unquoted field");
}

TEST(CsvReader, RejectsTextAfterAClosingQuote) {
  auto records = ReadAll("a,b\n\"x\"y,2\n");
  ASSERT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(records.status().message().find("<input>:2:"), std::string_view::npos);
}

// A file without line breaks, or with a quote left open, was one record as long as the file:
// a crafted (or wrong) file took as much memory as it had bytes.
TEST(CsvReader, RefusesRecordsLongerThanTheLimit) {
  const std::string huge(CsvReader::kMaxRecordBytes / 2 + 1, 'x');
  auto unquoted = ReadAll("a,b\n" + huge + "," + huge + "\n");
  ASSERT_EQ(unquoted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unquoted.status().message(),
            "<input>:2: the record is longer than 67108864 bytes (a quote left open, or no line breaks?)");
  auto quoted = ReadAll("a\n\"" + huge + "\n" + huge + "\n");
  ASSERT_EQ(quoted.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(quoted.status().message().find("<input>:2: the record is longer"), std::string_view::npos);
  // Right at the limit is fine.
  auto fits = ReadAll("a\n" + std::string(CsvReader::kMaxRecordBytes, 'x') + "\n");
  ASSERT_TRUE(fits.ok()) << fits.status();
}

TEST(CsvReader, RefusesRecordsWithMoreFieldsThanTheLimit) {
  auto records = ReadAll(std::string(CsvReader::kMaxFields, ',') + "\n");
  ASSERT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(records.status().message(), "<input>:1: the record has more than 65536 fields");
  EXPECT_TRUE(ReadAll(std::string(CsvReader::kMaxFields - 1, ',') + "\n").ok());
}

TEST(CsvReader, KeepsReturningTheFirstError) {
  CsvReader reader = CsvReader::FromString("a,b\n1\n2,3\n");
  ASSERT_TRUE(reader.ReadHeader().ok());
  std::vector<std::string> fields;
  absl::Status first = reader.Next(&fields).status();
  EXPECT_FALSE(first.ok());
  EXPECT_EQ(reader.Next(&fields).status(), first);
}

TEST(CsvReader, RejectsAnEmptyInputWhereAHeaderIsExpected) {
  CsvReader reader = CsvReader::FromString("");
  EXPECT_EQ(reader.ReadHeader().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CsvReader, NamesAMissingColumnAndListsTheAvailableOnes) {
  CsvReader reader = CsvReader::FromString("label,title,description\n");
  ASSERT_TRUE(reader.ReadHeader().ok());
  EXPECT_EQ(*reader.ColumnIndex("description"), 2u);
  auto index = reader.ColumnIndex("headline");
  ASSERT_EQ(index.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index.status().message(),
            "<input>: no column \"headline\"; the columns are: label, title, description");
}

TEST(CsvReader, NamesTheFileInErrors) {
  testing::TempDir dir;
  const auto path = dir.path() / "data.csv";
  ASSERT_TRUE(WriteFileDurably(path, "a,b,c\n1,2,3\n4,5\n").ok());
  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok());
  auto records = ReadAll(*reader);
  EXPECT_EQ(records.status().message(), path.string() + ":3: expected 3 fields, found 2");
}

TEST(CsvReader, ReportsAMissingFileAsNotFound) {
  testing::TempDir dir;
  auto reader = CsvReader::Open(dir.path() / "missing.csv");
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(reader.status().message().find("missing.csv"), std::string_view::npos);
}

// Several megabytes of quoted fields with doubled quotes and line breaks: fields and line
// numbers must survive the reader's chunk boundaries, and reading must stay fast.
// Speed belongs to the benchmarks (a timed assertion fails under the sanitizers and on a busy
// machine); this checks that records split across the reader's chunks come out whole.
TEST(CsvReader, ReadsFourMegabytesAcrossChunkBoundaries) {
  testing::TempDir dir;
  const auto path = dir.path() / "big.csv";
  std::string csv = "id,text,label\n";
  std::vector<std::string> expected;
  for (int i = 0; csv.size() < 4'000'000; ++i) {
    std::string text = "row " + std::to_string(i) + " says \"hi\",\nthen more words here";
    expected.push_back(text);
    std::string quoted;
    for (char c : text) {
      if (c == '"') quoted.push_back('"');
      quoted.push_back(c);
    }
    csv += std::to_string(i) + ",\"" + quoted + "\"," + std::to_string(i % 4) + "\r\n";
  }
  ASSERT_TRUE(WriteFileDurably(path, csv).ok());

  auto reader = CsvReader::Open(path);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(reader->ReadHeader().ok());
  std::vector<std::string> fields;
  size_t n = 0;
  while (*reader->Next(&fields)) {
    ASSERT_EQ(fields[1], expected[n]);
    ASSERT_EQ(reader->record_line(), static_cast<int64_t>(2 + 2 * n));
    ++n;
  }
  EXPECT_EQ(n, expected.size());
}

}  // namespace
}  // namespace textclf::data
