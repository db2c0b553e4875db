#include "core/data/labeled_csv.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/data/csv_reader.h"

namespace textclf::data {

absl::StatusOr<LabeledTexts> ReadLabeledCsv(const std::filesystem::path& path,
                                            std::span<const std::string> text_columns,
                                            std::string_view label_column) {
  if (text_columns.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("reading ", path.string(), ": no text columns given"));
  }
  ASSIGN_OR_RETURN(CsvReader reader, CsvReader::Open(path));
  RETURN_IF_ERROR(reader.ReadHeader());
  std::vector<size_t> text_indices;
  for (const std::string& column : text_columns) {
    ASSIGN_OR_RETURN(size_t index, reader.ColumnIndex(column));
    text_indices.push_back(index);
  }
  std::optional<size_t> label_index;
  if (!label_column.empty()) {
    ASSIGN_OR_RETURN(label_index, reader.ColumnIndex(label_column));
  }

  LabeledTexts result;
  std::vector<std::string> fields;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&fields));
    if (!more) break;
    std::string& text = result.texts.emplace_back();
    for (size_t index : text_indices) {
      if (fields[index].empty()) continue;
      if (!text.empty()) text.push_back(' ');
      text += fields[index];
    }
    if (label_index) result.labels.push_back(std::move(fields[*label_index]));
    result.lines.push_back(reader.record_line());
  }
  return result;
}

}  // namespace textclf::data
