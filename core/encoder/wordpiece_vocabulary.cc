#include "core/encoder/wordpiece_vocabulary.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/encoder/bert_tokenizer.h"

namespace textclf::encoder {
namespace {

constexpr std::string_view kSpecialTokens = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
constexpr size_t kSpecialCount = 5;
constexpr size_t kMinPieceChars = 2;
constexpr size_t kMaxPieceChars = 8;

using Counts = absl::flat_hash_map<std::string, int64_t>;

// Most frequent first, ties alphabetically.
std::vector<std::pair<std::string, int64_t>> Ranked(const Counts& counts, int64_t min_count) {
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(counts.size());
  for (const auto& [token, count] : counts) {
    if (count >= min_count) out.emplace_back(token, count);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

// Byte offsets where each UTF-8 character of `word` starts, plus word.size().
std::vector<size_t> CharacterBounds(std::string_view word) {
  std::vector<size_t> bounds;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
  }
  bounds.push_back(word.size());
  return bounds;
}

class VocabularyWriter {
 public:
  explicit VocabularyWriter(size_t size) : size_(size), text_(kSpecialTokens) {}
  bool full() const { return added_ + kSpecialCount >= size_; }
  size_t room() const { return full() ? 0 : size_ - kSpecialCount - added_; }
  bool Has(const std::string& token) const { return seen_.contains(token); }
  void Add(const std::string& token) {
    if (full() || !seen_.insert(token).second) return;
    text_ += token;
    text_ += '\n';
    ++added_;
  }
  std::string Finish() && { return std::move(text_); }

 private:
  size_t size_;
  size_t added_ = 0;
  std::string text_;
  absl::flat_hash_set<std::string> seen_;
};

}  // namespace

std::string LearnWordPieceVocabulary(std::span<const std::string> texts, int32_t size) {
  // Basic tokenization needs no vocabulary beyond the special tokens.
  auto tokenizer = BertTokenizer::Create(kSpecialTokens);
  Counts words;
  for (const std::string& text : texts) {
    for (std::string& word : tokenizer->BasicTokenize(text)) {
      if (word.size() <= BertTokenizer::kMaxWordChars) ++words[std::move(word)];
    }
  }
  Counts characters;
  for (const auto& [word, count] : words) {
    const std::vector<size_t> bounds = CharacterBounds(word);
    for (size_t c = 0; c + 1 < bounds.size(); ++c) {
      std::string ch = word.substr(bounds[c], bounds[c + 1] - bounds[c]);
      characters[c == 0 ? ch : "##" + ch] += count;
    }
  }

  VocabularyWriter vocab(static_cast<size_t>(std::max<int32_t>(size, 0)));
  const size_t character_budget = vocab.room() / 8;
  const auto ranked_characters = Ranked(characters, 1);
  for (size_t i = 0; i < ranked_characters.size() && i < character_budget; ++i) vocab.Add(ranked_characters[i].first);

  const auto ranked_words = Ranked(words, 2);
  const size_t word_budget = vocab.room() * 3 / 4;
  size_t next_word = 0;
  for (; next_word < ranked_words.size() && next_word < word_budget; ++next_word) vocab.Add(ranked_words[next_word].first);

  // Pieces of the words left out, weighted by how often those words occur.
  Counts pieces;
  for (const auto& [word, count] : words) {
    if (vocab.Has(word)) continue;
    const std::vector<size_t> bounds = CharacterBounds(word);
    const size_t chars = bounds.size() - 1;
    for (size_t n = kMinPieceChars; n < chars && n <= kMaxPieceChars; ++n) {
      pieces[word.substr(0, bounds[n])] += count;
      pieces["##" + word.substr(bounds[chars - n])] += count;
    }
  }
  for (const auto& [piece, count] : Ranked(pieces, 2)) {
    if (vocab.full()) break;
    vocab.Add(piece);
  }
  for (; next_word < ranked_words.size() && !vocab.full(); ++next_word) vocab.Add(ranked_words[next_word].first);
  return std::move(vocab).Finish();
}

}  // namespace textclf::encoder
