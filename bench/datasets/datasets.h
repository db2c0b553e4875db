// Loaders of the real data sets under DataDir() (see /work/shared/data/README.md), shaped as
// class names plus integer labels, ready for training and evaluation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::data {

// A train/test split; labels index `classes`.
struct Dataset {
  std::vector<std::string> classes;
  std::vector<std::string> train_texts;
  std::vector<int> train_labels;
  std::vector<std::string> test_texts;
  std::vector<int> test_labels;
};

// A labeled set without a split.
struct LabeledSet {
  std::vector<std::string> classes;
  std::vector<std::string> texts;
  std::vector<int> labels;
};

// 4 classes; text = title + " " + description (the title left out when empty).
absl::StatusOr<Dataset> LoadAgNews(const std::filesystem::path& data_dir);

// 14 classes; text = title + " " + content (the title left out when empty).
absl::StatusOr<Dataset> LoadDbpedia14(const std::filesystem::path& data_dir);

// Headlines in file order; classes "news" (label 0) and "clickbait" (label 1).
absl::StatusOr<LabeledSet> LoadClickbait(const std::filesystem::path& data_dir);

// Stratified split: round(test_fraction x class size) examples of each class go to the test
// side (test_fraction is clamped to [0, 1]); labels outside `classes` are dropped. Both sides
// keep the input order. The same seed gives the same split on every platform.
Dataset RandomSplit(const LabeledSet& set, double test_fraction, uint64_t seed);

}  // namespace textclf::data
