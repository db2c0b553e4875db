// The uncased BERT tokenizer (Devlin et al.; Hugging Face's BertTokenizer with
// do_lower_case=True): text cleaning, CJK characters as words of their own, lower-casing and
// accent stripping (Unicode NFD by utf8proc, combining marks dropped), splitting on punctuation,
// then greedy longest-match-first WordPiece with "##" continuations; a word longer than 100
// characters, or one WordPiece cannot cover, becomes [UNK].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace textclf::encoder {

// The words of a text (basic tokens) and their WordPiece ids; piece i belongs to word
// word_of_piece[i].
struct WordPieces {
  std::vector<std::string> words;
  std::vector<int32_t> ids;
  std::vector<int32_t> word_of_piece;
};

class BertTokenizer {
 public:
  // `vocab` is vocab.txt: one token per line, the line number is the id. It must hold [PAD],
  // [UNK], [CLS], [SEP] and [MASK].
  static absl::StatusOr<BertTokenizer> Create(std::string_view vocab);

  // Cleaning, lower-casing, accent stripping and punctuation/CJK splitting.
  std::vector<std::string> BasicTokenize(std::string_view text) const;
  // Appends the pieces of one basic token.
  void AppendWordPieces(std::string_view word, std::vector<int32_t>* ids) const;
  WordPieces Tokenize(std::string_view text) const;
  // The pieces as strings ("##" continuations), as reference tokenizers print them.
  std::vector<std::string> TokenizeToStrings(std::string_view text) const;

  int32_t Id(std::string_view token) const;  // -1 when not in the vocabulary
  const std::string& Token(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }
  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  const std::string& vocab_text() const { return *vocab_text_; }

  int32_t pad_id() const { return pad_; }
  int32_t unk_id() const { return unk_; }
  int32_t cls_id() const { return cls_; }
  int32_t sep_id() const { return sep_; }
  int32_t mask_id() const { return mask_; }
  // True for ids of [PAD], [UNK], [CLS], [SEP], [MASK] and other bracketed "[...]" tokens.
  bool IsSpecial(int32_t id) const { return special_[static_cast<size_t>(id)]; }

  static constexpr size_t kMaxWordChars = 100;

 private:
  BertTokenizer() = default;

  std::shared_ptr<const std::string> vocab_text_;
  std::vector<std::string> tokens_;
  std::vector<bool> special_;
  absl::flat_hash_map<std::string, int32_t> ids_;
  int32_t pad_ = -1, unk_ = -1, cls_ = -1, sep_ = -1, mask_ = -1;
};

}  // namespace textclf::encoder
