#include "core/encoder/bert_tokenizer.h"

#include <utf8proc.h>

#include "absl/strings/str_cat.h"

namespace textclf::encoder {
namespace {

bool IsWhitespace(utf8proc_int32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

// Cc and Cf, except the whitespace controls (which count as whitespace).
bool IsControl(utf8proc_int32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto category = utf8proc_category(cp);
  return category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF;
}

// ASCII non-alphanumerics count as punctuation even where Unicode says symbol ("$", "^", "`").
bool IsPunctuation(utf8proc_int32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// The CJK Unified Ideographs blocks, as BERT's tokenizer lists them (not Hangul or kana).
bool IsCjk(utf8proc_int32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void AppendUtf8(utf8proc_int32_t cp, std::string* out) {
  utf8proc_uint8_t buffer[4];
  const auto n = utf8proc_encode_char(cp, buffer);
  out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

// Calls fn(byte offset, code point length in bytes) for each character of a valid UTF-8 word.
template <typename Fn>
void ForEachChar(std::string_view s, Fn fn) {
  size_t i = 0;
  while (i < s.size()) {
    utf8proc_int32_t cp;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                              static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    if (n <= 0) n = 1;
    fn(i, static_cast<size_t>(n));
    i += static_cast<size_t>(n);
  }
}

}  // namespace

absl::StatusOr<BertTokenizer> BertTokenizer::Create(std::string_view vocab) {
  BertTokenizer t;
  t.vocab_text_ = std::make_shared<const std::string>(vocab);
  size_t start = 0;
  while (start < vocab.size()) {
    size_t end = vocab.find('\n', start);
    if (end == std::string_view::npos) end = vocab.size();
    std::string_view token = vocab.substr(start, end - start);
    if (!token.empty() && token.back() == '\r') token.remove_suffix(1);
    const int32_t id = static_cast<int32_t>(t.tokens_.size());
    t.tokens_.emplace_back(token);
    t.special_.push_back(token.size() > 2 && token.front() == '[' && token.back() == ']');
    // The first occurrence wins, as in the reference implementation.
    t.ids_.try_emplace(std::string(token), id);
    start = end + 1;
  }
  struct Special {
    const char* token;
    int32_t* id;
  };
  for (const Special& s : {Special{"[PAD]", &t.pad_}, Special{"[UNK]", &t.unk_}, Special{"[CLS]", &t.cls_},
                           Special{"[SEP]", &t.sep_}, Special{"[MASK]", &t.mask_}}) {
    *s.id = t.Id(s.token);
    if (*s.id < 0) {
      return absl::InvalidArgumentError(absl::StrCat("vocab.txt has no ", s.token, " token; is it a BERT vocabulary?"));
    }
  }
  return t;
}

int32_t BertTokenizer::Id(std::string_view token) const {
  auto it = ids_.find(absl::string_view(token.data(), token.size()));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> BertTokenizer::BasicTokenize(std::string_view text) const {
  std::vector<std::string> words;
  std::string current;
  auto end_word = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  utf8proc_int32_t decomposed[8];
  size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                              static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    // Invalid bytes are dropped like U+FFFD (the server only accepts valid UTF-8 anyway).
    i += n > 0 ? static_cast<size_t>(n) : 1;
    if (n <= 0 || cp == 0 || cp == 0xFFFD || IsControl(cp)) continue;
    if (IsWhitespace(cp)) {
      end_word();
      continue;
    }
    if (IsCjk(cp)) {
      end_word();
      AppendUtf8(cp, &current);
      end_word();
      continue;
    }
    // Lower-case, then NFD; the combining marks (Mn) of the decomposition are the accents.
    const auto count = utf8proc_decompose_char(utf8proc_tolower(cp), decomposed, 8, UTF8PROC_DECOMPOSE, nullptr);
    for (utf8proc_ssize_t k = 0; k < count && k < 8; ++k) {
      const utf8proc_int32_t c = decomposed[k];
      if (utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;
      if (IsPunctuation(c)) {
        end_word();
        AppendUtf8(c, &current);
        end_word();
      } else {
        AppendUtf8(c, &current);
      }
    }
  }
  end_word();
  return words;
}

void BertTokenizer::AppendWordPieces(std::string_view word, std::vector<int32_t>* ids) const {
  thread_local std::vector<size_t> boundaries;  // byte offsets of character starts, then the end
  boundaries.clear();
  ForEachChar(word, [&](size_t offset, size_t) { boundaries.push_back(offset); });
  const size_t chars = boundaries.size();
  boundaries.push_back(word.size());
  if (chars > kMaxWordChars) {
    ids->push_back(unk_);
    return;
  }
  const size_t first = ids->size();
  thread_local std::string candidate;
  size_t start = 0;
  while (start < chars) {
    size_t end = chars;
    int32_t found = -1;
    while (end > start) {
      candidate.clear();
      if (start > 0) candidate = "##";
      candidate.append(word.substr(boundaries[start], boundaries[end] - boundaries[start]));
      found = Id(candidate);
      if (found >= 0) break;
      --end;
    }
    if (found < 0) {  // a part no piece covers: the whole word is unknown
      ids->resize(first);
      ids->push_back(unk_);
      return;
    }
    ids->push_back(found);
    start = end;
  }
}

WordPieces BertTokenizer::Tokenize(std::string_view text) const {
  WordPieces out;
  out.words = BasicTokenize(text);
  for (size_t w = 0; w < out.words.size(); ++w) {
    AppendWordPieces(out.words[w], &out.ids);
    out.word_of_piece.resize(out.ids.size(), static_cast<int32_t>(w));
  }
  return out;
}

std::vector<std::string> BertTokenizer::TokenizeToStrings(std::string_view text) const {
  std::vector<std::string> out;
  for (int32_t id : Tokenize(text).ids) out.push_back(Token(id));
  return out;
}

}  // namespace textclf::encoder
