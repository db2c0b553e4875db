#include "core/xclass/static_representations.h"

#include <algorithm>

namespace textclf::xclass {

int StaticVocabulary::Find(std::string_view word) const {
  auto it = index.find(absl::string_view(word.data(), word.size()));
  return it == index.end() ? -1 : it->second;
}

void StaticRepresentationBuilder::Add(std::span<const std::string> words, std::span<const float> vectors) {
  if (words.empty()) return;
  const size_t hidden = static_cast<size_t>(hidden_);
  document_mean_.assign(hidden, 0.0);
  for (size_t w = 0; w < words.size(); ++w) {
    for (size_t h = 0; h < hidden; ++h) document_mean_[h] += vectors[w * hidden + h];
  }
  for (double& x : document_mean_) x /= static_cast<double>(words.size());
  for (size_t w = 0; w < words.size(); ++w) {
    Sum& sum = sums_[words[w]];
    if (sum.total.empty()) {
      sum.total.assign(hidden, 0.0);
      sum.document_total.assign(hidden, 0.0);
    }
    ++sum.count;
    const float* v = vectors.data() + w * hidden;
    for (size_t h = 0; h < hidden; ++h) {
      sum.total[h] += v[h];
      sum.document_total[h] += document_mean_[h];
    }
  }
}

StaticVocabulary StaticRepresentationBuilder::Finish(int min_count) const {
  std::vector<const std::pair<const std::string, Sum>*> kept;
  for (const auto& entry : sums_) {
    if (entry.second.count >= min_count) kept.push_back(&entry);
  }
  std::sort(kept.begin(), kept.end(), [](const auto* a, const auto* b) {
    return a->second.count != b->second.count ? a->second.count > b->second.count : a->first < b->first;
  });
  StaticVocabulary vocab;
  vocab.vectors.resize(static_cast<Eigen::Index>(kept.size()), hidden_);
  vocab.document_vectors.resize(static_cast<Eigen::Index>(kept.size()), hidden_);
  for (size_t i = 0; i < kept.size(); ++i) {
    const auto& [word, sum] = *kept[i];
    vocab.words.push_back(word);
    vocab.counts.push_back(sum.count);
    vocab.index[word] = static_cast<int>(i);
    for (int h = 0; h < hidden_; ++h) {
      vocab.vectors(static_cast<Eigen::Index>(i), h) = static_cast<float>(sum.total[static_cast<size_t>(h)] / sum.count);
      vocab.document_vectors(static_cast<Eigen::Index>(i), h) =
          static_cast<float>(sum.document_total[static_cast<size_t>(h)] / sum.count);
    }
  }
  return vocab;
}

}  // namespace textclf::xclass
