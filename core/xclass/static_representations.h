// Static word representations (X-Class step 1): a word's contextual representations averaged
// over all its occurrences in the corpus, for words seen at least min_count times. Alongside,
// each word's document context: the mean representation of the documents it occurs in, which
// carries topic where a small encoder's word representations carry mostly local patterns.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "absl/container/flat_hash_map.h"

namespace textclf::xclass {

struct StaticVocabulary {
  std::vector<std::string> words;
  std::vector<int64_t> counts;
  Eigen::MatrixXf vectors;  // words x hidden
  // words x hidden: per word, the average over its occurrences of the mean of all word
  // representations of the document it occurs in.
  Eigen::MatrixXf document_vectors;

  // -1 when the word has no static representation.
  int Find(std::string_view word) const;
  size_t size() const { return words.size(); }

  absl::flat_hash_map<std::string, int> index;
};

class StaticRepresentationBuilder {
 public:
  explicit StaticRepresentationBuilder(int hidden) : hidden_(hidden) {}

  // One document's words and their representations (words x hidden, row-major).
  // Not thread-safe: call from one thread.
  void Add(std::span<const std::string> words, std::span<const float> vectors);

  // Words seen at least `min_count` times, most frequent first (ties by word).
  StaticVocabulary Finish(int min_count) const;

 private:
  struct Sum {
    int64_t count = 0;
    std::vector<double> total;
    std::vector<double> document_total;
  };
  int hidden_;
  absl::flat_hash_map<std::string, Sum> sums_;
  std::vector<double> document_mean_;  // scratch for Add
};

}  // namespace textclf::xclass
