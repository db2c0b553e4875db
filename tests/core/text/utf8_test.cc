// Tests for UTF-8 decoding and the \w, \d, \s character classes.
#include "core/text/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace textclf::text {
namespace {

// GoogleTest cannot print char32_t.
uint32_t Code(char32_t cp) { return cp; }

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("é 中 🙂"));
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBD"));      // U+FFFD itself
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(Utf8, RejectsOverlongSurrogateOutOfRangeAndTruncatedSequences) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // overlong, 4 bytes
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated euro sign
  EXPECT_FALSE(IsValidUtf8("ok\x80"));            // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));
}

TEST(Utf8, DecodesEachInvalidByteAsOneReplacementCharacter) {
  char32_t cp = 0;
  const std::string overlong = "\xC0\xAF";
  EXPECT_EQ(DecodeUtf8(overlong, 0, &cp), 1u);
  EXPECT_EQ(Code(cp), Code(kReplacementChar));
  EXPECT_EQ(DecodeUtf8(overlong, 1, &cp), 1u);
  EXPECT_EQ(Code(cp), Code(kReplacementChar));

  const std::string truncated = "\xE2\x82" "a";
  EXPECT_EQ(DecodeUtf8(truncated, 0, &cp), 1u);
  EXPECT_EQ(Code(cp), Code(kReplacementChar));
  EXPECT_EQ(DecodeUtf8(truncated, 2, &cp), 1u);
  EXPECT_EQ(Code(cp), Code(U'a'));

  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80", 0, &cp), 1u);
  EXPECT_EQ(Code(cp), Code(kReplacementChar));
}

TEST(Utf8, DecodesValidCharactersAndStopsAtTheEnd) {
  char32_t cp = 0;
  const std::string text = "é中🙂";
  EXPECT_EQ(DecodeUtf8(text, 0, &cp), 2u);
  EXPECT_EQ(Code(cp), Code(U'é'));
  EXPECT_EQ(DecodeUtf8(text, 2, &cp), 3u);
  EXPECT_EQ(Code(cp), Code(U'中'));
  EXPECT_EQ(DecodeUtf8(text, 5, &cp), 4u);
  EXPECT_EQ(Code(cp), Code(U'🙂'));
  EXPECT_EQ(DecodeUtf8(text, text.size(), &cp), 0u);
}

TEST(Utf8, EveryScalarValueRoundTripsThroughAppendAndDecode) {
  std::string encoded;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    encoded.clear();
    AppendUtf8(cp, &encoded);
    char32_t decoded = 0;
    ASSERT_EQ(DecodeUtf8(encoded, 0, &decoded), encoded.size()) << Code(cp);
    ASSERT_EQ(Code(decoded), Code(cp));
    ASSERT_TRUE(IsValidUtf8(encoded)) << Code(cp);
  }
}

TEST(Utf8, AppendWritesSurrogatesAndOutOfRangeValuesAsReplacementCharacter) {
  std::string out;
  AppendUtf8(0xD800, &out);
  AppendUtf8(0x110000, &out);
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8, WordCharactersAreLettersNumbersAndUnderscore) {
  for (char32_t cp : {U'a', U'Z', U'5', U'_', U'é', U'Ж', U'中', U'٣', U'²', U'Ⅻ', U'ǅ'}) {
    EXPECT_TRUE(IsWordChar(cp)) << static_cast<uint32_t>(cp);
  }
  for (char32_t cp :
       {U' ', U'-', U'\'', U'’', U'\u0301', U'🙂', U'$', U'\u00A0', kReplacementChar}) {
    EXPECT_FALSE(IsWordChar(cp)) << static_cast<uint32_t>(cp);
  }
  EXPECT_FALSE(IsWordChar(0x110000));
}

TEST(Utf8, DigitsAreDecimalDigitsOnly) {
  for (char32_t cp : {U'0', U'9', U'٣', U'５'}) EXPECT_TRUE(IsDigitChar(cp));
  for (char32_t cp : {U'a', U'²', U'Ⅻ', U'½', U'_'}) EXPECT_FALSE(IsDigitChar(cp));
}

TEST(Utf8, SpacesMatchPythonIsspace) {
  const char32_t python_spaces[] = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20,
                                    0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
  for (char32_t cp : python_spaces) EXPECT_TRUE(IsSpaceChar(cp)) << static_cast<uint32_t>(cp);
  for (char32_t cp = 0x2000; cp <= 0x200A; ++cp) EXPECT_TRUE(IsSpaceChar(cp));
  for (char32_t cp : {U'a', U'\0', U'\u200B', U'\u180E', U'\uFEFF'}) EXPECT_FALSE(IsSpaceChar(cp));
}

TEST(Utf8, LowerCasesWithSimpleCaseMapping) {
  EXPECT_EQ(ToLowerUtf8("HeLLo ÀÉ ЖΣ 123"), "hello àé жσ 123");
  EXPECT_EQ(ToLowerUtf8("\u212A"), "k");  // Kelvin sign
  // Python's full mapping would give "i" + U+0307; the simple mapping keeps one character.
  EXPECT_EQ(ToLowerUtf8("İ"), "i");
  EXPECT_EQ(Code(ToLowerChar(U'Ä')), Code(U'ä'));
}

TEST(Utf8, LowerCasingReplacesInvalidBytes) {
  EXPECT_EQ(ToLowerUtf8("A\xC0\xAF" "B"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  std::string out = "stale";
  ToLowerUtf8("", &out);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace textclf::text
