// Tests for stable word hashing.
#include "core/text/word_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace textclf::text {
namespace {

std::string Hashed(std::string_view text) {
  std::string out;
  AppendHashedWords(text, &out);
  return out;
}

// Values fixed forever: stored models depend on them. Checked against an independent Python
// implementation of FNV-1a 64 + splitmix64.
TEST(WordHash, HashValuesNeverChange) {
  EXPECT_EQ(StableHash64(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(StableHash64("hello"), 0x16fe05a1c75bcd0fULL);
  EXPECT_EQ(StableHash64("Привет"), 0x316a48aed4259f28ULL);
}

TEST(WordHash, WritesBase255DigitsPlusOneThenAZeroByte) {
  const std::string expected = {char(188), char(20), char(125), char(137),
                                char(203), char(225), char(161), char(24), '\0'};
  EXPECT_EQ(Hashed("hello"), expected);
}

TEST(WordHash, SplitsOnRunsOfUnicodeWhitespace) {
  const std::string two_words = Hashed("hello") + Hashed("world");
  EXPECT_EQ(Hashed("  hello \t world\n"), two_words);
  EXPECT_EQ(Hashed("hello\u3000world"), two_words);
  EXPECT_EQ(Hashed(""), "");
  EXPECT_EQ(Hashed(" \n "), "");
}

TEST(WordHash, ZeroBytesOnlySeparateWords) {
  const std::string out = Hashed("the quick brown fox jumps");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\0'), 5);
  EXPECT_EQ(out.back(), '\0');
}

TEST(WordHash, AppendsToExistingContent) {
  std::string out = "x";
  AppendHashedWords("hello", &out);
  std::string expected = "x";
  expected += Hashed("hello");
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace textclf::text
