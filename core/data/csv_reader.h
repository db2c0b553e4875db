// A streaming RFC 4180 CSV reader for the data sets: quoted fields may hold commas, doubled
// quotes and line breaks, and every error names the file and line so bad data is easy to find.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace textclf::data {

class CsvReader {
 public:
  // Bounds on one record, so that a file without line breaks (or with a quote left open) fails
  // with a message instead of taking all memory. Data sets of texts stay far below both.
  static constexpr size_t kMaxRecordBytes = size_t{64} << 20;
  static constexpr size_t kMaxFields = size_t{1} << 16;

  static absl::StatusOr<CsvReader> Open(const std::filesystem::path& path);
  // Reads from memory; errors name the source "<input>".
  static CsvReader FromString(std::string data);

  CsvReader(CsvReader&&) noexcept = default;
  CsvReader& operator=(CsvReader&&) noexcept = default;

  // Reads the first record as column names. Every later record must have as many fields;
  // without a header, the first record sets the width instead.
  absl::Status ReadHeader();
  const std::vector<std::string>& header() const { return header_; }
  // NOT_FOUND names the column and lists the available ones.
  absl::StatusOr<size_t> ColumnIndex(std::string_view name) const;

  // Reads the next record into `fields`; false at the end of the input. Blank lines between
  // records are skipped (as pandas does), so a one-column file must quote an empty value.
  // Errors are INVALID_ARGUMENT and sticky: every later call returns the same error; so is a
  // record beyond kMaxRecordBytes or kMaxFields.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields);

  // 1-based line where the last record (or the header) started.
  int64_t record_line() const { return record_line_; }
  const std::string& source_name() const { return name_; }

 private:
  CsvReader(std::string name, std::unique_ptr<std::ifstream> in, std::string buffer);

  bool Refill();  // false at the end of the input
  int Peek();     // the next byte, or -1 at the end
  void SkipBom();
  absl::Status Fail(int64_t line, std::string_view message);
  absl::Status ReadUnquoted(std::string* field);
  absl::Status ReadQuoted(std::string* field);
  absl::Status TooLong();

  std::string name_;
  std::unique_ptr<std::ifstream> in_;  // null when reading from memory
  std::string buffer_;                 // the current chunk; bytes before pos_ are consumed
  size_t pos_ = 0;
  int64_t line_ = 1;                   // line of the byte at pos_
  int64_t record_line_ = 0;
  size_t record_left_ = 0;             // bytes the current record may still take
  size_t expected_fields_ = 0;         // 0 until the header or first record
  std::vector<std::string> header_;
  absl::Status error_;
};

}  // namespace textclf::data
