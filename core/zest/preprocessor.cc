#include "core/zest/preprocessor.h"

#include "core/text/sentences.h"
#include "core/text/string_normalizer.h"
#include "core/text/utf8.h"
#include "core/text/word_hash.h"
#include "core/text/word_normalizer.h"

namespace textclf::zest {

Preprocessor::Preprocessor(const v1::ZestConfig& resolved, text::CharFilter filter)
    : config_(resolved),
      filter_(std::move(filter)),
      split_(resolved.split_sentences()),
      // The reference doubles binary texts as s * 2 and multi-class texts as t + " " + t.
      repetition_separator_(resolved.mode() == v1::ZestConfig::BINARY ? "" : " ") {}

void Preprocessor::CleanPiece(std::string_view piece, std::string* out,
                              std::string* scratch) const {
  filter_.Apply(piece, scratch);
  switch (config_.normalization()) {
    case v1::ZestConfig::WORDS:
      text::NormalizeWords(*scratch, out);  // lower-cases itself
      break;
    case v1::ZestConfig::STRING:
    case v1::ZestConfig::STRING_NO_PUNCTUATION: {
      text::StringNormalizerOptions options;
      options.punctuation = config_.normalization() == v1::ZestConfig::STRING
                                ? text::StringNormalizerOptions::Punctuation::kTokens
                                : text::StringNormalizerOptions::Punctuation::kRemove;
      options.lowercase = config_.lowercase();
      text::NormalizeString(*scratch, options, out);
      break;
    }
    default:
      *out = config_.lowercase() ? text::ToLowerUtf8(*scratch) : *scratch;
      break;
  }
  if (config_.word_hashing()) {
    scratch->clear();
    text::AppendHashedWords(*out, scratch);
    out->swap(*scratch);
  }
}

void Preprocessor::Clean(std::string_view raw, std::string* out) const {
  out->clear();
  std::string piece, scratch;
  if (!split_) {
    CleanPiece(raw, out, &scratch);
    return;
  }
  for (std::string_view chunk : text::SplitSentences(raw)) {
    CleanPiece(chunk, &piece, &scratch);
    if (piece.empty()) continue;
    // Hashed words already end with a 0 separator; plain text chunks are joined by a space.
    if (!out->empty() && !config_.word_hashing()) out->push_back(' ');
    out->append(piece);
  }
}

void Preprocessor::AppendTrainingSamples(std::string_view raw,
                                         std::vector<std::string>* samples) const {
  std::string scratch;
  if (!split_) {
    std::string sample;
    CleanPiece(raw, &sample, &scratch);
    if (!sample.empty()) samples->push_back(std::move(sample));
    return;
  }
  for (std::string_view chunk : text::SplitSentences(raw)) {
    std::string sample;
    CleanPiece(chunk, &sample, &scratch);
    if (!sample.empty()) samples->push_back(std::move(sample));
  }
}

void Preprocessor::PrepareForScoring(std::string_view raw, std::string* out,
                                     std::string* scratch) const {
  Clean(raw, scratch);
  out->clear();
  if (scratch->empty()) return;
  out->reserve(config_.repetitions() * (scratch->size() + 1));
  for (int i = 0; i < config_.repetitions(); ++i) {
    if (i > 0) out->append(repetition_separator_);
    out->append(*scratch);
  }
}

}  // namespace textclf::zest
