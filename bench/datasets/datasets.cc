#include "bench/datasets/datasets.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/common/files.h"
#include "core/common/status_macros.h"
#include "core/data/labeled_csv.h"

namespace textclf::data {
namespace fs = std::filesystem;
namespace {

// classes.txt: one class name a line; label k (1-based) is line k.
absl::StatusOr<std::vector<std::string>> ReadClasses(const fs::path& path) {
  ASSIGN_OR_RETURN(std::string content, ReadFile(path));
  std::vector<std::string> classes;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) classes.emplace_back(line);
    start = end + 1;
  }
  if (classes.empty()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": no classes"));
  return classes;
}

// Labels written as 1..num_classes, or 0..num_classes-1 when first_label is 0.
absl::Status ConvertLabels(const fs::path& path, const LabeledTexts& read, int first_label,
                           int num_classes, std::vector<int>* labels) {
  labels->reserve(read.labels.size());
  for (size_t i = 0; i < read.labels.size(); ++i) {
    int label = 0;
    if (!absl::SimpleAtoi(read.labels[i], &label) || label < first_label ||
        label >= first_label + num_classes) {
      return absl::InvalidArgumentError(absl::StrCat(
          path.string(), ":", read.lines[i], ": label \"", read.labels[i], "\" is not in ",
          first_label, "..", first_label + num_classes - 1));
    }
    labels->push_back(label - first_label);
  }
  return absl::OkStatus();
}

absl::Status LoadSplit(const fs::path& path, std::span<const std::string> text_columns,
                       int num_classes, std::vector<std::string>* texts, std::vector<int>* labels) {
  ASSIGN_OR_RETURN(LabeledTexts read, ReadLabeledCsv(path, text_columns, "label"));
  RETURN_IF_ERROR(ConvertLabels(path, read, /*first_label=*/1, num_classes, labels));
  *texts = std::move(read.texts);
  return absl::OkStatus();
}

absl::StatusOr<Dataset> LoadTopicDataset(const fs::path& dir,
                                         std::span<const std::string> text_columns) {
  Dataset dataset;
  ASSIGN_OR_RETURN(dataset.classes, ReadClasses(dir / "classes.txt"));
  const int k = static_cast<int>(dataset.classes.size());
  RETURN_IF_ERROR(LoadSplit(dir / "train.csv", text_columns, k, &dataset.train_texts,
                            &dataset.train_labels));
  RETURN_IF_ERROR(LoadSplit(dir / "test.csv", text_columns, k, &dataset.test_texts,
                            &dataset.test_labels));
  return dataset;
}

}  // namespace

absl::StatusOr<Dataset> LoadAgNews(const fs::path& data_dir) {
  static const std::array<std::string, 2> kColumns = {"title", "description"};
  return LoadTopicDataset(data_dir / "agnews", kColumns);
}

absl::StatusOr<Dataset> LoadDbpedia14(const fs::path& data_dir) {
  static const std::array<std::string, 2> kColumns = {"title", "content"};
  return LoadTopicDataset(data_dir / "dbpedia14", kColumns);
}

absl::StatusOr<LabeledSet> LoadClickbait(const fs::path& data_dir) {
  static const std::array<std::string, 1> kColumns = {"headline"};
  const fs::path path = data_dir / "clickbait" / "clickbait_data.csv";
  ASSIGN_OR_RETURN(LabeledTexts read, ReadLabeledCsv(path, kColumns, "clickbait"));
  LabeledSet set;
  set.classes = {"news", "clickbait"};
  RETURN_IF_ERROR(ConvertLabels(path, read, /*first_label=*/0, 2, &set.labels));
  set.texts = std::move(read.texts);
  return set;
}

Dataset RandomSplit(const LabeledSet& set, double test_fraction, uint64_t seed) {
  test_fraction = std::isnan(test_fraction) ? 0.0 : std::clamp(test_fraction, 0.0, 1.0);
  std::vector<std::vector<size_t>> by_class(set.classes.size());
  for (size_t i = 0; i < set.labels.size(); ++i) {
    const int label = set.labels[i];
    if (label >= 0 && static_cast<size_t>(label) < by_class.size()) by_class[label].push_back(i);
  }

  // Fisher-Yates by hand: std::shuffle and the std distributions differ between standard
  // libraries, mt19937_64's output does not. The modulo bias is below 2^-40 for any data set.
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> is_test(set.labels.size(), 0);
  for (std::vector<size_t>& members : by_class) {
    for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng() % i]);
    const auto n_test = static_cast<size_t>(std::llround(test_fraction * members.size()));
    for (size_t j = 0; j < n_test; ++j) is_test[members[j]] = 1;
  }

  Dataset dataset;
  dataset.classes = set.classes;
  for (size_t i = 0; i < set.labels.size(); ++i) {
    const int label = set.labels[i];
    if (label < 0 || static_cast<size_t>(label) >= by_class.size()) continue;
    if (is_test[i]) {
      dataset.test_texts.push_back(set.texts[i]);
      dataset.test_labels.push_back(label);
    } else {
      dataset.train_texts.push_back(set.texts[i]);
      dataset.train_labels.push_back(label);
    }
  }
  return dataset;
}

}  // namespace textclf::data
