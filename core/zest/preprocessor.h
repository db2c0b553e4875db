// Turns raw text into the bytes Zest compresses: character filter, normalisation, optional word
// hashing, and repetition. Training and scoring go through the same steps so they agree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/text/char_filter.h"
#include "textclf/v1/model.pb.h"

namespace textclf::zest {

class Preprocessor {
 public:
  Preprocessor(const v1::ZestConfig& resolved, text::CharFilter filter);

  // The cleaned form of one text (sentence chunks joined by a space when splitting).
  void Clean(std::string_view raw, std::string* out) const;

  // Dictionary-training samples of one text: the cleaned text, or one sample per sentence chunk
  // when splitting, as the reference trains multi-class dictionaries on sentences.
  void AppendTrainingSamples(std::string_view raw, std::vector<std::string>* samples) const;

  // The bytes scored for one text: the cleaned text repeated (the reference doubles it so that
  // the second copy measures how well the first was learned). `scratch` avoids allocations.
  void PrepareForScoring(std::string_view raw, std::string* out, std::string* scratch) const;

  // Separator between corpus samples when measuring a class's compressed size.
  char corpus_separator() const { return split_ ? ' ' : '\n'; }

  const text::CharFilter& filter() const { return filter_; }

 private:
  void CleanPiece(std::string_view piece, std::string* out, std::string* scratch) const;

  v1::ZestConfig config_;
  text::CharFilter filter_;
  bool split_;
  std::string repetition_separator_;
};

}  // namespace textclf::zest
