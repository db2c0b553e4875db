// The TEXT_CNN vocabulary: words of the training texts, most frequent first, and the mapping of a
// text to word ids. Texts go through core/text's NormalizeWords (lower-case, punctuation at word
// edges dropped) and split at whitespace, so training and serving tokenise alike.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::cnn {

class Vocabulary {
 public:
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kUnknown = 1;

  // Words seen at least `min_count` times, at most `max_size` of them, by descending count
  // (ties alphabetical, so the result never depends on hash order).
  static Vocabulary Build(std::span<const std::string> texts, int max_size, int min_count);
  // The file written by Serialize: one word per line.
  static absl::StatusOr<Vocabulary> Parse(std::string_view file);
  std::string Serialize() const;

  // Ids including the pad and unknown ids.
  int64_t size() const { return static_cast<int64_t>(words_.size()) + 2; }
  // The text's word ids, at most `max_tokens` of them (unknown words map to kUnknown).
  void Encode(std::string_view text, int max_tokens, std::vector<int64_t>* ids) const;

 private:
  void Index();

  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> words_;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> ids_;
};

// The words of a text as the vocabulary sees them.
std::vector<std::string> Tokenize(std::string_view text);

}  // namespace textclf::cnn
