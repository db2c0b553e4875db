// Tests for the StringNormalizer port: the reference notebook's examples and cases derived by
// applying the reference's regular expressions one by one.
#include "core/text/string_normalizer.h"

#include <gtest/gtest.h>

#include <string>

namespace textclf::text {
namespace {

using Punctuation = StringNormalizerOptions::Punctuation;

std::string Tokens(std::string_view text) { return NormalizeString(text, {Punctuation::kTokens}); }
std::string Remove(std::string_view text) { return NormalizeString(text, {Punctuation::kRemove}); }
std::string Keep(std::string_view text) { return NormalizeString(text, {Punctuation::kKeep}); }

TEST(StringNormalizer, RemovesPunctuationInRemoveMode) {
  // Verbatim from the reference notebook (no_punct=True).
  EXPECT_EQ(Remove("OMG!! 42: What does this mean? (nothing really) 'bla bla bla'..."),
            "OMG ## What does this mean nothing really bla bla bla");
  EXPECT_EQ(Remove("А это будет работать? #324,232090"), "А это будет работать ###");
  EXPECT_EQ(Remove("20160904_130443_001.jpg"), "### jpg");
  EXPECT_EQ(Remove("500 FREE Coins to the first 5 clickers!You scored 73%! WELL DONE"),
            "### FREE Coins to the first ## clickers You scored ## WELL DONE");
  EXPECT_EQ(Remove("¡Tremendo anillo! Así le pidieron matrimonio a Paris Hilton "),
            "Tremendo anillo Así le pidieron matrimonio a Paris Hilton");
}

TEST(StringNormalizer, RemoveModeDropsUnderscoresAndHashesButKeepsSymbols) {
  EXPECT_EQ(Remove("#hashtag_text"), "hashtag text");
  EXPECT_EQ(Remove("a*b"), "a*b");
  EXPECT_EQ(Remove("5_3"), "##");  // the '_' becomes a space, and spaces join digits
  EXPECT_EQ(Remove("..."), "");
  EXPECT_EQ(Remove("?!"), "");
}

TEST(StringNormalizer, TurnsPunctuationIntoTokensByDefault) {
  EXPECT_EQ(Tokens("Wait... what?!"), "Wait ___ what _?_ _!_");
  EXPECT_EQ(Tokens("¿Qué? ¡Sí!"), "_?_ Qué _?_ _!_ Sí _!_");
  EXPECT_EQ(Tokens("?!?"), "_?_ _!_ _?_");
  EXPECT_EQ(Tokens("##"), "_#_ _#_");
  EXPECT_EQ(Tokens("#1 hit"), "_#_ ## hit");
  EXPECT_EQ(Tokens("..."), "___");
  EXPECT_EQ(Tokens(".."), "");
  EXPECT_EQ(Tokens("?"), "_?_");
}

TEST(StringNormalizer, KeepsSymbolsAndWordsAndSplitsContractions) {
  EXPECT_EQ(Tokens("a*b & c|d"), "a*b & c|d");
  EXPECT_EQ(Tokens("it’s don't"), "it s don t");
}

TEST(StringNormalizer, BucketsNumbersByLength) {
  EXPECT_EQ(Tokens("x² 10"), "x² ##");  // '²' is \w but not \d
  EXPECT_EQ(Tokens("٣٤ apples"), "## apples");
  EXPECT_EQ(Tokens("abc123def"), "abc ### def");
  EXPECT_EQ(Tokens("5?"), "## _?_");
  EXPECT_EQ(Tokens("5_x"), "## _x");
  EXPECT_EQ(Tokens("a_5"), "a_ ##");
}

TEST(StringNormalizer, JoinsDigitsSeparatedByPunctuationOrSpaces) {
  EXPECT_EQ(Tokens("42 7"), "###");
  EXPECT_EQ(Tokens("3.14"), "###");
  EXPECT_EQ(Tokens("1,000,000 users"), "### users");
  EXPECT_EQ(Tokens("v2.0"), "v ##");
  EXPECT_EQ(Tokens("Call 555 1234 now!"), "Call ### now _!_");
  EXPECT_EQ(Tokens("20160904_130443_001.jpg"), "### jpg");
  // "..." becomes " ___ ", whose underscores and spaces also join the digits around it.
  EXPECT_EQ(Tokens("5...3"), "##");
  EXPECT_EQ(Tokens("Is it 1... 2... 3?"), "Is it ### _?_");
}

TEST(StringNormalizer, KeepModeLeavesPunctuationInPlace) {
  EXPECT_EQ(Keep("Wait... what?!"), "Wait what?!");
  EXPECT_EQ(Keep("#1 hit_me"), "# ## hit_me");
  EXPECT_EQ(Keep("¿Qué? ¡Sí!"), "Qué? Sí!");
  EXPECT_EQ(Keep("5_3"), "##");
}

TEST(StringNormalizer, HandlesEmptyAndPunctuationOnlyText) {
  for (Punctuation mode : {Punctuation::kTokens, Punctuation::kRemove, Punctuation::kKeep}) {
    EXPECT_EQ(NormalizeString("", {mode}), "");
    EXPECT_EQ(NormalizeString("   \t\n ", {mode}), "");
    EXPECT_EQ(NormalizeString(",;:-", {mode}), "");
  }
}

TEST(StringNormalizer, LowerCasesFirstWhenAsked) {
  EXPECT_EQ(NormalizeString("HELLO World ÀÉ!", {Punctuation::kTokens, true}),
            "hello world àé _!_");
  EXPECT_EQ(NormalizeString("HELLO", {Punctuation::kTokens, false}), "HELLO");
}

TEST(StringNormalizer, TreatsInvalidBytesAsPunctuation) {
  EXPECT_EQ(Tokens("a\xC0\xAF" "b \xED\xA0\x80 c\xE2\x82"), "a b c");
}

TEST(StringNormalizer, OutParameterVariantReplacesTheContent) {
  std::string out = "stale content";
  NormalizeString("Wait... 12!", {Punctuation::kTokens}, &out);
  EXPECT_EQ(out, "Wait ___ ## _!_");
}

TEST(StringNormalizer, CountsMaximalWordRuns) {
  EXPECT_EQ(CountWords("OMG ## What"), 2);
  EXPECT_EQ(CountWords("_?_ a"), 3);
  EXPECT_EQ(CountWords("Ж中 x²"), 2);
  EXPECT_EQ(CountWords("###"), 0);
  EXPECT_EQ(CountWords(""), 0);
}

}  // namespace
}  // namespace textclf::text
