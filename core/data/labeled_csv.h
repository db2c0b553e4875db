// Texts (and their labels, if any) from named columns of a CSV file: the one way every data
// set and training request reads its examples.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::data {

struct LabeledTexts {
  std::vector<std::string> texts;
  std::vector<std::string> labels;  // empty when read without a label column
  std::vector<int64_t> lines;       // where each record starts, for error messages
};

// Several text columns are joined with a single space, skipping empty ones (most AG News
// titles are empty, and must not leave a leading space). An empty `label_column` reads
// unlabeled texts.
absl::StatusOr<LabeledTexts> ReadLabeledCsv(const std::filesystem::path& path,
                                            std::span<const std::string> text_columns,
                                            std::string_view label_column);

}  // namespace textclf::data
