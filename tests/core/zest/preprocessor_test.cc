#include "core/zest/preprocessor.h"

#include <gtest/gtest.h>

#include "core/zest/zest_config.h"

namespace textclf::zest {
namespace {

Preprocessor Make(v1::ZestConfig config, int classes, text::CharFilter filter = text::CharFilter()) {
  return Preprocessor(*ResolveConfig(config, classes), std::move(filter));
}

TEST(Preprocessor, BinaryModelsDoubleTheNormalisedTextWithoutSeparator) {
  Preprocessor p = Make(v1::ZestConfig(), 2);
  std::string out, scratch;
  p.PrepareForScoring("You Won't Believe 27 Cats!", &out, &scratch);
  // STRING normalisation: apostrophe to space, 27 -> ##, ! -> _!_ token.
  EXPECT_EQ(out, "You Won t Believe ## Cats _!_You Won t Believe ## Cats _!_");
}

TEST(Preprocessor, MulticlassModelsLowerCaseSplitAndJoinWithASpace) {
  Preprocessor p = Make(v1::ZestConfig(), 3);
  std::string out, scratch;
  p.PrepareForScoring("Stocks Fell. Oil rose\nno", &out, &scratch);
  // "no" is dropped: chunks of two characters or fewer are, as in the reference.
  EXPECT_EQ(out, "stocks fell oil rose stocks fell oil rose");
  std::vector<std::string> samples;
  p.AppendTrainingSamples("Stocks Fell. Oil rose\nno", &samples);
  EXPECT_EQ(samples, (std::vector<std::string>{"stocks fell", "oil rose"}));
}

TEST(Preprocessor, AppliesTheCharacterFilterFirst) {
  Preprocessor p = Make(v1::ZestConfig(), 2, text::CharFilter::FromAllowed("abc "));
  std::string out;
  p.Clean("abxc dbz", &out);
  EXPECT_EQ(out, "abc b");
}

TEST(Preprocessor, HashesWordsIntoNonZeroBytesWithZeroSeparators) {
  v1::ZestConfig config;
  config.set_word_hashing(true);
  Preprocessor p = Make(config, 2);
  std::string out;
  p.Clean("alpha beta alpha", &out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\0');
  const size_t first = out.find('\0');
  const size_t second = out.find('\0', first + 1);
  const std::string alpha = out.substr(0, first);
  EXPECT_EQ(out.substr(second + 1, alpha.size()), alpha);  // same word, same bytes
  EXPECT_NE(out.substr(first + 1, second - first - 1), alpha);
}

TEST(Preprocessor, EmptyAfterCleaningMeansNothingToScore) {
  Preprocessor p = Make(v1::ZestConfig(), 2, text::CharFilter::FromAllowed("abc "));
  std::string out = "stale", scratch;
  p.PrepareForScoring("xyz", &out, &scratch);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace textclf::zest
