// Stable word hashing.
#include "core/text/word_hash.h"

#include "core/text/utf8.h"

namespace textclf::text {

uint64_t StableHash64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

void AppendHashedWords(std::string_view text, std::string* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    size_t length = DecodeUtf8(text, pos, &cp);
    if (IsSpaceChar(cp)) {
      pos += length;
      continue;
    }
    const size_t word_begin = pos;
    while (pos < text.size() && !IsSpaceChar(cp)) {
      pos += length;
      length = DecodeUtf8(text, pos, &cp);
    }
    for (uint64_t h = StableHash64(text.substr(word_begin, pos - word_begin)); h > 0; h /= 255) {
      out->push_back(static_cast<char>(h % 255 + 1));
    }
    out->push_back('\0');
  }
}

}  // namespace textclf::text
