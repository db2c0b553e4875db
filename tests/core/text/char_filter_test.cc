// Tests for the learned character filter.
#include "core/text/char_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace textclf::text {
namespace {

CharFilter LearnFrom(std::vector<std::string_view> samples, double threshold,
                     size_t max_samples = 50000) {
  return CharFilter::Learn(samples, threshold, max_samples);
}

TEST(CharFilter, AllowsCharactersFoundInEnoughSamples) {
  // 3 samples at 0.5: a character needs 1.5 samples; repeats within a sample count once.
  const CharFilter filter = LearnFrom({"abc", "abdd", "a!"}, 0.5);
  EXPECT_EQ(filter.allowed(), "ab");
  EXPECT_TRUE(filter.IsAllowed(U'a'));
  EXPECT_FALSE(filter.IsAllowed(U'd'));
  EXPECT_FALSE(filter.allows_everything());
}

TEST(CharFilter, NeverAllowsNonCandidates) {
  const CharFilter filter = LearnFrom({"a@¿é\t", "a@¿é\t"}, 0.5);
  EXPECT_EQ(filter.allowed(), "a¿é");
  EXPECT_FALSE(filter.IsAllowed(U'@'));
  EXPECT_FALSE(filter.IsAllowed(U'\t'));
}

TEST(CharFilter, UsesOnlyTheFirstMaxSamples) {
  const CharFilter filter = LearnFrom({"ab", "ab", "cd", "cd", "cd"}, 0.5, 2);
  EXPECT_EQ(filter.allowed(), "ab");
}

TEST(CharFilter, WithoutSamplesOrSurvivorsAllowsEverything) {
  EXPECT_TRUE(LearnFrom({}, 0.5).allows_everything());
  EXPECT_TRUE(LearnFrom({"a", "b"}, 2.0).allows_everything());
}

TEST(CharFilter, FromAllowedIsTheInverseOfAllowed) {
  const CharFilter filter = CharFilter::FromAllowed("é a¿a");
  EXPECT_EQ(filter.allowed(), " a¿é");
  EXPECT_EQ(CharFilter::FromAllowed(filter.allowed()).allowed(), filter.allowed());
  EXPECT_TRUE(CharFilter::FromAllowed("").allows_everything());
  EXPECT_EQ(CharFilter().allowed(), "");
}

TEST(CharFilter, RemovesCharactersThenFoldsWhitespace) {
  const CharFilter filter = CharFilter::FromAllowed("ab \t");
  EXPECT_EQ(filter.Apply("a c  b\t\tbx"), "a b b");
  EXPECT_EQ(filter.Apply(" c "), " ");  // re.sub does not strip
  EXPECT_EQ(filter.Apply("a\nb"), "ab");  // a newline that is not allowed is removed, not folded
}

TEST(CharFilter, PassThroughFilterOnlyFoldsWhitespace) {
  const CharFilter filter;
  EXPECT_TRUE(filter.IsAllowed(U'@'));
  EXPECT_EQ(filter.Apply("a\t\n b\u3000é"), "a b é");
  EXPECT_EQ(filter.Apply("x\xC0"), "x\xEF\xBF\xBD");
}

TEST(CharFilter, OutParameterVariantReplacesTheContent) {
  std::string out = "stale";
  CharFilter::FromAllowed("a").Apply("abc", &out);
  EXPECT_EQ(out, "a");
}

}  // namespace
}  // namespace textclf::text
