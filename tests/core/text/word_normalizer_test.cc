// Tests for the normalize() port, with expectations worked out from the reference's two regular
// expressions (and checked against Python).
#include "core/text/word_normalizer.h"

#include <gtest/gtest.h>

#include <string>

namespace textclf::text {
namespace {

TEST(WordNormalizer, LowerCasesAndDropsPunctuationBeforeASpace) {
  EXPECT_EQ(NormalizeWords("Hello, world!"), "hello world!");
  EXPECT_EQ(NormalizeWords("wow!!! ok"), "wow ok");
  EXPECT_EQ(NormalizeWords("end. "), "end ");
  EXPECT_EQ(NormalizeWords("WHY?"), "why?");
}

TEST(WordNormalizer, RemovesPunctuationInsideWords) {
  EXPECT_EQ(NormalizeWords("don't stop"), "dont stop");
  EXPECT_EQ(NormalizeWords("e-mail"), "email");
  EXPECT_EQ(NormalizeWords("U.S. stocks fall."), "us stocks fall.");
}

TEST(WordNormalizer, CollapsesPunctuationBetweenSpaces) {
  EXPECT_EQ(NormalizeWords("well -- said"), "well said");
  EXPECT_EQ(NormalizeWords("a - b"), "a b");
  EXPECT_EQ(NormalizeWords("a ,b"), "a b");
  EXPECT_EQ(NormalizeWords("price: $5"), "price $5");
}

TEST(WordNormalizer, LeavesPunctuationAtTheEdgesOfTheText) {
  EXPECT_EQ(NormalizeWords("(hi)"), "(hi)");
  EXPECT_EQ(NormalizeWords("hi !"), "hi !");
  EXPECT_EQ(NormalizeWords("x -"), "x -");
  EXPECT_EQ(NormalizeWords("- x"), "- x");    // the space is the run's last character
  EXPECT_EQ(NormalizeWords(" - x"), " x");
  EXPECT_EQ(NormalizeWords("  leading spaces"), " leading spaces");
  EXPECT_EQ(NormalizeWords("..."), "...");
  EXPECT_EQ(NormalizeWords(""), "");
}

TEST(WordNormalizer, KeepsWhitespaceOtherThanSpaceBetweenWords) {
  EXPECT_EQ(NormalizeWords("tab\there"), "tab\there");
  EXPECT_EQ(NormalizeWords("a.\tb"), "a.\tb");
}

TEST(WordNormalizer, HandlesUnicodeWordsAndInvalidBytes) {
  EXPECT_EQ(NormalizeWords("ÀLA CARTE, Ж-Ж!"), "àla carte жж!");
  EXPECT_EQ(NormalizeWords("a\xC0" "b"), "ab");  // U+FFFD is punctuation inside a word
  EXPECT_EQ(NormalizeWords("a \xC0\xAF"), "a \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(WordNormalizer, OutParameterVariantReplacesTheContent) {
  std::string out = "stale";
  NormalizeWords("It's OK.", &out);
  EXPECT_EQ(out, "its ok.");
}

}  // namespace
}  // namespace textclf::text
