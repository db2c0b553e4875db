#include "core/cnn/vocabulary.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/text/utf8.h"
#include "core/text/word_normalizer.h"

namespace textclf::cnn {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Calls fn(word) for each whitespace-separated word of the normalised text.
template <typename Fn>
void ForEachWord(std::string_view text, std::string* scratch, Fn&& fn) {
  text::NormalizeWords(text, scratch);
  const std::string& s = *scratch;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !IsSpace(s[j])) ++j;
    if (j > i && !fn(std::string_view(s).substr(i, j - i))) return;
    i = j;
  }
}

}  // namespace

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> words;
  std::string scratch;
  ForEachWord(text, &scratch, [&](std::string_view w) {
    words.emplace_back(w);
    return true;
  });
  return words;
}

Vocabulary Vocabulary::Build(std::span<const std::string> texts, int max_size, int min_count) {
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> counts;
  std::string scratch;
  for (const std::string& t : texts) {
    ForEachWord(t, &scratch, [&](std::string_view w) {
      auto it = counts.find(w);
      if (it == counts.end()) {
        counts.emplace(std::string(w), 1);
      } else {
        ++it->second;
      }
      return true;
    });
  }
  std::vector<std::pair<int64_t, std::string>> ranked;
  for (auto& [word, count] : counts) {
    if (count >= min_count) ranked.emplace_back(count, word);
  }
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  if (ranked.size() > static_cast<size_t>(std::max(0, max_size))) ranked.resize(static_cast<size_t>(max_size));
  Vocabulary v;
  for (auto& [count, word] : ranked) v.words_.push_back(std::move(word));
  v.Index();
  return v;
}

absl::StatusOr<Vocabulary> Vocabulary::Parse(std::string_view file) {
  Vocabulary v;
  size_t begin = 0;
  while (begin < file.size()) {
    size_t end = file.find('\n', begin);
    if (end == std::string_view::npos) {
      return absl::DataLossError("the vocabulary file does not end with a newline: it is truncated");
    }
    std::string_view word = file.substr(begin, end - begin);
    if (word.empty() || !text::IsValidUtf8(word)) {
      return absl::DataLossError(absl::StrCat("line ", v.words_.size() + 1,
                                              " of the vocabulary file is empty or not UTF-8"));
    }
    v.words_.emplace_back(word);
    begin = end + 1;
  }
  v.Index();
  if (v.ids_.size() != v.words_.size()) return absl::DataLossError("the vocabulary file lists a word twice");
  return v;
}

std::string Vocabulary::Serialize() const {
  std::string out;
  for (const std::string& w : words_) absl::StrAppend(&out, w, "\n");
  return out;
}

void Vocabulary::Index() {
  ids_.clear();
  ids_.reserve(words_.size());
  for (size_t i = 0; i < words_.size(); ++i) ids_.emplace(words_[i], static_cast<int64_t>(i) + 2);
}

void Vocabulary::Encode(std::string_view text, int max_tokens, std::vector<int64_t>* ids) const {
  ids->clear();
  thread_local std::string scratch;
  ForEachWord(text, &scratch, [&](std::string_view w) {
    auto it = ids_.find(w);
    ids->push_back(it == ids_.end() ? kUnknown : it->second);
    return static_cast<int>(ids->size()) < max_tokens;
  });
}

}  // namespace textclf::cnn
