// A hand-written scanner for the reference's sentence-splitting pattern.
#include "core/text/sentences.h"

#include "core/text/utf8.h"

namespace textclf::text {
namespace {

// The length of the separator at text[pos], 0 if none starts there. "[.?!]\s+" is tried first
// and its \s+ is greedy, so it also swallows the newlines that follow the punctuation.
size_t SeparatorLength(std::string_view text, size_t pos) {
  const char c = text[pos];
  if (c == '\n') return 1;
  if (c != '.' && c != '?' && c != '!') return 0;
  size_t end = pos + 1;
  char32_t cp = 0;
  for (size_t length; (length = DecodeUtf8(text, end, &cp)) != 0 && IsSpaceChar(cp);) {
    end += length;
  }
  return end > pos + 1 ? end - pos : 0;
}

bool HasMoreThanTwoChars(std::string_view piece) {
  int chars = 0;
  char32_t cp = 0;
  for (size_t pos = 0; pos < piece.size(); pos += DecodeUtf8(piece, pos, &cp)) {
    if (++chars > 2) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string_view> SplitSentences(std::string_view text) {
  std::vector<std::string_view> sentences;
  SplitSentences(text, &sentences);
  return sentences;
}

void SplitSentences(std::string_view text, std::vector<std::string_view>* out) {
  out->clear();
  size_t piece_begin = 0;
  auto keep = [&](size_t piece_end) {
    const std::string_view piece = text.substr(piece_begin, piece_end - piece_begin);
    if (HasMoreThanTwoChars(piece)) out->push_back(piece);
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t separator = SeparatorLength(text, pos);
    if (separator == 0) {
      ++pos;  // separators start with ASCII bytes, which never occur inside a multi-byte character
      continue;
    }
    keep(pos);
    pos += separator;
    piece_begin = pos;
  }
  keep(text.size());
}

}  // namespace textclf::text
