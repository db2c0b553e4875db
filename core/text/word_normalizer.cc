// One-pass port of the reference normalize(), rewriting one run of non-word characters at a time.
#include "core/text/word_normalizer.h"

#include "core/text/utf8.h"

namespace textclf::text {
namespace {

constexpr size_t kNone = std::string_view::npos;

// Appends text lower-cased, invalid bytes as U+FFFD.
void AppendLowered(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, pos, &cp);
    const char32_t lower = ToLowerChar(cp);
    if (lower < 128) {
      out->push_back(static_cast<char>(lower));
    } else if (lower == cp && cp != kReplacementChar) {
      out->append(text.substr(pos, length));
    } else {
      AppendUtf8(lower, out);
    }
    pos += length;
  }
}

// A maximal run of \W characters, text[begin, end).
struct NonWordRun {
  size_t begin = 0;
  size_t end = 0;
  size_t first_space = kNone;  // byte offsets of ' ' (only ASCII space counts in pattern 1)
  size_t last_space = kNone;
  size_t last_char = 0;        // offset of the run's last character
  int chars = 0;
  bool has_whitespace = false; // any \s, for pattern 2
};

NonWordRun ScanNonWordRun(std::string_view text, size_t begin) {
  NonWordRun run;
  run.begin = begin;
  size_t pos = begin;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, pos, &cp);
    cp = ToLowerChar(cp);
    if (IsWordChar(cp)) break;
    if (cp == ' ') {
      if (run.first_space == kNone) run.first_space = pos;
      run.last_space = pos;
    }
    run.has_whitespace = run.has_whitespace || IsSpaceChar(cp);
    run.last_char = pos;
    ++run.chars;
    pos += length;
  }
  run.end = pos;
  return run;
}

// What the two substitutions make of one run. Python tries, left to right:
//   "\b\W+ "  only at the run's start after a word; \W+ is greedy, so it ends at the run's last
//             space (which must not be its first character);
//   " \W+\b"  at a space followed by at least one \W and then a word character;
//   "\b[^\w\s]+\b"  (on the result) a whole run without whitespace between two words.
void WriteNonWordRun(std::string_view text, const NonWordRun& run, std::string* out) {
  const bool after_word = run.begin > 0;
  const bool before_word = run.end < text.size();
  const std::string_view whole = text.substr(run.begin, run.end - run.begin);
  if (after_word) {
    if (run.last_space != kNone && run.last_space > run.begin) {
      out->push_back(' ');
      AppendLowered(text.substr(run.last_space + 1, run.end - run.last_space - 1), out);
      return;
    }
    if (text[run.begin] == ' ' && run.chars >= 2 && before_word) {
      out->push_back(' ');
      return;
    }
    if (before_word && !run.has_whitespace) return;  // pattern 2: punctuation inside a word
    AppendLowered(whole, out);
    return;
  }
  // At the start of the text neither \b can hold, so only " \W+\b" at the first space applies.
  if (before_word && run.first_space != kNone && run.first_space < run.last_char) {
    AppendLowered(text.substr(0, run.first_space), out);
    out->push_back(' ');
    return;
  }
  AppendLowered(whole, out);
}

}  // namespace

// Both substitutions rewrite only maximal runs of \W characters and the first never empties one,
// so the second sees the same runs: each run can be rewritten on its own once its extent, its
// spaces and its neighbours are known.
std::string NormalizeWords(std::string_view text) {
  std::string out;
  NormalizeWords(text, &out);
  return out;
}

void NormalizeWords(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, pos, &cp);
    const char32_t lower = ToLowerChar(cp);
    if (!IsWordChar(lower)) {
      const NonWordRun run = ScanNonWordRun(text, pos);
      WriteNonWordRun(text, run, out);
      pos = run.end;
      continue;
    }
    if (lower < 128) {
      out->push_back(static_cast<char>(lower));
    } else if (lower == cp) {
      out->append(text.substr(pos, length));
    } else {
      AppendUtf8(lower, out);
    }
    pos += length;
  }
}

}  // namespace textclf::text
