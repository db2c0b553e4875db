#include "core/data/csv_reader.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace textclf::data {
namespace {

// Large enough that reading costs a few system calls per megabyte.
constexpr size_t kChunkBytes = 256 * 1024;

// Bytes that end a run of plain text in an unquoted field.
constexpr std::array<bool, 256> kUnquotedStops = [] {
  std::array<bool, 256> stops{};
  stops[','] = stops['"'] = stops['\n'] = stops['\r'] = true;
  return stops;
}();

}  // namespace

CsvReader::CsvReader(std::string name, std::unique_ptr<std::ifstream> in, std::string buffer)
    : name_(std::move(name)), in_(std::move(in)), buffer_(std::move(buffer)) {}

absl::StatusOr<CsvReader> CsvReader::Open(const std::filesystem::path& path) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) {
    std::string message = absl::StrCat("cannot open ", path.string(), ": ", std::strerror(errno));
    if (errno == ENOENT) return absl::NotFoundError(message);
    return absl::PermissionDeniedError(message);
  }
  CsvReader reader(path.string(), std::move(in), std::string());
  reader.Refill();
  reader.SkipBom();
  return reader;
}

CsvReader CsvReader::FromString(std::string data) {
  CsvReader reader("<input>", nullptr, std::move(data));
  reader.SkipBom();
  return reader;
}

void CsvReader::SkipBom() {
  if (std::string_view(buffer_).substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool CsvReader::Refill() {
  if (in_ == nullptr || !*in_) return false;
  buffer_.resize(kChunkBytes);
  in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.resize(static_cast<size_t>(in_->gcount()));
  pos_ = 0;
  return !buffer_.empty();
}

int CsvReader::Peek() {
  if (pos_ == buffer_.size() && !Refill()) return -1;
  return static_cast<unsigned char>(buffer_[pos_]);
}

absl::Status CsvReader::Fail(int64_t line, std::string_view message) {
  error_ = absl::InvalidArgumentError(absl::StrCat(name_, ":", line, ": ", std::string(message)));
  return error_;
}

absl::Status CsvReader::TooLong() {
  return Fail(record_line_, absl::StrCat("the record is longer than ", kMaxRecordBytes,
                                         " bytes (a quote left open, or no line breaks?)"));
}

absl::Status CsvReader::ReadUnquoted(std::string* field) {
  for (;;) {
    const char* data = buffer_.data();
    const size_t start = pos_, end = buffer_.size();
    while (pos_ < end && !kUnquotedStops[static_cast<unsigned char>(data[pos_])]) ++pos_;
    field->append(data + start, pos_ - start);
    if (field->size() > record_left_) return TooLong();
    if (pos_ < end || !Refill()) break;
  }
  if (Peek() == '"') return Fail(line_, "quote inside an unquoted field");
  return absl::OkStatus();
}

absl::Status CsvReader::ReadQuoted(std::string* field) {
  const int64_t open_line = line_;
  ++pos_;  // the opening quote
  for (;;) {
    const char* data = buffer_.data();
    const size_t end = buffer_.size();
    const void* quote = std::memchr(data + pos_, '"', end - pos_);
    const size_t stop = quote ? static_cast<size_t>(static_cast<const char*>(quote) - data) : end;
    line_ += std::count(data + pos_, data + stop, '\n');
    field->append(data + pos_, stop - pos_);
    pos_ = stop;
    if (field->size() > record_left_) return TooLong();
    if (pos_ == end) {
      if (!Refill()) return Fail(open_line, "unterminated quoted field");
      continue;
    }
    ++pos_;  // a quote: either the first of a doubled pair or the closing one
    if (Peek() != '"') break;
    field->push_back('"');
    ++pos_;
  }
  const int c = Peek();
  if (c != ',' && c != '\n' && c != '\r' && c != -1) {
    return Fail(line_, "unexpected character after a closing quote");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  if (!error_.ok()) return error_;
  for (int c = Peek(); c == '\n' || c == '\r'; c = Peek()) {
    ++pos_;
    if (c == '\r' && Peek() == '\n') ++pos_;
    ++line_;
  }
  if (Peek() == -1) {
    if (in_ != nullptr && in_->bad()) {
      error_ = absl::DataLossError(absl::StrCat("cannot read ", name_, ": ", std::strerror(errno)));
      return error_;
    }
    return false;
  }

  record_line_ = line_;
  record_left_ = kMaxRecordBytes;
  // Strings are reused across records so that their buffers are too.
  size_t count = 0;
  for (;;) {
    if (count == kMaxFields) {
      return Fail(record_line_, absl::StrCat("the record has more than ", kMaxFields, " fields"));
    }
    if (count == fields->size()) fields->emplace_back();
    std::string* field = &(*fields)[count++];
    field->clear();
    absl::Status status = Peek() == '"' ? ReadQuoted(field) : ReadUnquoted(field);
    if (!status.ok()) return status;
    record_left_ -= field->size();
    const int c = Peek();
    if (c == ',') {
      ++pos_;
      continue;
    }
    if (c == '\r' || c == '\n') {
      ++pos_;
      if (c == '\r' && Peek() == '\n') ++pos_;
      ++line_;
    }
    break;
  }
  fields->resize(count);

  if (expected_fields_ == 0) expected_fields_ = count;
  if (count != expected_fields_) {
    return Fail(record_line_,
                absl::StrCat("expected ", expected_fields_, " fields, found ", count));
  }
  return true;
}

absl::Status CsvReader::ReadHeader() {
  expected_fields_ = 0;
  absl::StatusOr<bool> read = Next(&header_);
  if (!read.ok()) return read.status();
  if (!*read) return Fail(line_, "empty input, expected a header line");
  return absl::OkStatus();
}

absl::StatusOr<size_t> CsvReader::ColumnIndex(std::string_view name) const {
  auto it = std::find(header_.begin(), header_.end(), name);
  if (it != header_.end()) return static_cast<size_t>(it - header_.begin());
  return absl::NotFoundError(absl::StrCat(name_, ": no column \"", std::string(name),
                                          "\"; the columns are: ", absl::StrJoin(header_, ", ")));
}

}  // namespace textclf::data
