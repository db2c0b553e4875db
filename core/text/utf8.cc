// Strict UTF-8 decoding and the Unicode side of the character classes, via utf8proc.
#include "core/text/utf8.h"

#include <utf8proc.h>

namespace textclf::text {
namespace {

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// The bytes of the valid character at s[pos], or 0 when none starts there. The allowed range of
// the second byte is what rules out overlong forms, surrogates and values above U+10FFFF.
size_t ValidSequenceLength(std::string_view s, size_t pos, char32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  const size_t left = s.size() - pos;
  const unsigned char lead = p[0];
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  }
  if (lead >= 0xC2 && lead <= 0xDF) {
    if (left < 2 || !IsContinuation(p[1])) return 0;
    *cp = (char32_t{lead} & 0x1F) << 6 | (p[1] & 0x3F);
    return 2;
  }
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (left < 3) return 0;
    const unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    if (p[1] < low || p[1] > high || !IsContinuation(p[2])) return 0;
    *cp = (char32_t{lead} & 0x0F) << 12 | (char32_t{p[1]} & 0x3F) << 6 | (p[2] & 0x3F);
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (left < 4) return 0;
    const unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    if (p[1] < low || p[1] > high || !IsContinuation(p[2]) || !IsContinuation(p[3])) return 0;
    *cp = (char32_t{lead} & 0x07) << 18 | (char32_t{p[1]} & 0x3F) << 12 |
          (char32_t{p[2]} & 0x3F) << 6 | (p[3] & 0x3F);
    return 4;
  }
  return 0;
}

utf8proc_category_t Category(char32_t cp) {
  if (cp > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    char32_t cp = 0;
    const size_t length = ValidSequenceLength(s, pos, &cp);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    const char bytes[] = {static_cast<char>(0xC0 | (cp >> 6)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out->append(bytes, 2);
  } else if (cp < 0x10000) {
    const char bytes[] = {static_cast<char>(0xE0 | (cp >> 12)),
                          static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out->append(bytes, 3);
  } else {
    const char bytes[] = {static_cast<char>(0xF0 | (cp >> 18)),
                          static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                          static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out->append(bytes, 4);
  }
}

std::string ToLowerUtf8(std::string_view s) {
  std::string out;
  ToLowerUtf8(s, &out);
  return out;
}

void ToLowerUtf8(std::string_view s, std::string* out) {
  out->clear();
  out->reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(s, pos, &cp);
    if (cp < 128) {
      out->push_back(static_cast<char>(ToLowerChar(cp)));
    } else {
      const char32_t lower = ToLowerChar(cp);
      // An invalid byte also reads as U+FFFD, so copying the input would copy the bad byte.
      if (lower == cp && cp != kReplacementChar) {
        out->append(s.substr(pos, length));
      } else {
        AppendUtf8(lower, out);
      }
    }
    pos += length;
  }
}

namespace internal {

size_t DecodeMultiByte(std::string_view s, size_t pos, char32_t* cp) {
  const size_t length = ValidSequenceLength(s, pos, cp);
  if (length != 0) return length;
  *cp = kReplacementChar;
  return 1;
}

bool IsWordCharNonAscii(char32_t cp) {
  const utf8proc_category_t category = Category(cp);
  return (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
         (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
}

bool IsDigitCharNonAscii(char32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_ND; }

bool IsSpaceCharNonAscii(char32_t cp) {
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

char32_t ToLowerCharNonAscii(char32_t cp) {
  if (cp > 0x10FFFF) return cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

}  // namespace internal
}  // namespace textclf::text
