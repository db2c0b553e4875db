// UTF-8 decoding and encoding, and the character classes of Python's `re` (\w, \d, \s) that the
// text normalizers reproduce. ASCII is answered from a table; other code points ask utf8proc.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace textclf::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Strict: rejects overlong forms, surrogates, code points above U+10FFFF and truncated sequences.
bool IsValidUtf8(std::string_view s);

// Decodes the character that starts at s[pos] into *cp and returns the bytes it used. A byte that
// does not start a valid sequence reads as U+FFFD and uses 1 byte, so scanning always advances and
// never splits a valid character. Returns 0, leaving *cp alone, when pos >= s.size().
size_t DecodeUtf8(std::string_view s, size_t pos, char32_t* cp);

// Surrogates and values above U+10FFFF are written as U+FFFD, so the output is always valid.
void AppendUtf8(char32_t cp, std::string* out);

// \w of Python's re: letters (L*), numbers (Nd, Nl, No) and '_'. Python 3.11 agrees with this
// category rule on every code point (its isnumeric-only characters are all Lo).
bool IsWordChar(char32_t cp);
// \d: decimal digits (Nd).
bool IsDigitChar(char32_t cp);
// \s: the same set as Python's str.isspace() (and therefore str.split()).
bool IsSpaceChar(char32_t cp);

// Unicode simple lower-case mapping: one code point to one code point.
char32_t ToLowerChar(char32_t cp);
// Invalid bytes come out as U+FFFD.
std::string ToLowerUtf8(std::string_view s);
void ToLowerUtf8(std::string_view s, std::string* out);  // replaces *out

// Inline fast paths; the functions above are defined here so ASCII never leaves the caller.
namespace internal {

inline constexpr uint8_t kWordBit = 1;
inline constexpr uint8_t kDigitBit = 2;
inline constexpr uint8_t kSpaceBit = 4;

inline constexpr std::array<uint8_t, 128> kAsciiClasses = [] {
  std::array<uint8_t, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') classes[c] |= kWordBit;
    if (c >= '0' && c <= '9') classes[c] |= kWordBit | kDigitBit;
    if ((c >= '\t' && c <= '\r') || (c >= 0x1c && c <= ' ')) classes[c] |= kSpaceBit;
  }
  return classes;
}();

size_t DecodeMultiByte(std::string_view s, size_t pos, char32_t* cp);
bool IsWordCharNonAscii(char32_t cp);
bool IsDigitCharNonAscii(char32_t cp);
bool IsSpaceCharNonAscii(char32_t cp);
char32_t ToLowerCharNonAscii(char32_t cp);

}  // namespace internal

inline size_t DecodeUtf8(std::string_view s, size_t pos, char32_t* cp) {
  if (pos >= s.size()) return 0;
  const auto byte = static_cast<unsigned char>(s[pos]);
  if (byte < 0x80) {
    *cp = byte;
    return 1;
  }
  return internal::DecodeMultiByte(s, pos, cp);
}

inline bool IsWordChar(char32_t cp) {
  return cp < 128 ? (internal::kAsciiClasses[cp] & internal::kWordBit) != 0
                  : internal::IsWordCharNonAscii(cp);
}

inline bool IsDigitChar(char32_t cp) {
  return cp < 128 ? (internal::kAsciiClasses[cp] & internal::kDigitBit) != 0
                  : internal::IsDigitCharNonAscii(cp);
}

inline bool IsSpaceChar(char32_t cp) {
  return cp < 128 ? (internal::kAsciiClasses[cp] & internal::kSpaceBit) != 0
                  : internal::IsSpaceCharNonAscii(cp);
}

inline char32_t ToLowerChar(char32_t cp) {
  if (cp < 128) return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
  return internal::ToLowerCharNonAscii(cp);
}

}  // namespace textclf::text
