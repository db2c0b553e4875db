// Tests for sentence splitting.
#include "core/text/sentences.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace textclf::text {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Sentences, SplitsAtPunctuationFollowedBySpaceAndAtNewlines) {
  EXPECT_THAT(SplitSentences("Hi. This is one! And two?\nThree"),
              ElementsAre("This is one", "And two", "Three"));
  EXPECT_THAT(SplitSentences("one\n\ntwo"), ElementsAre("one", "two"));
  EXPECT_THAT(SplitSentences("ends. "), ElementsAre("ends"));
}

TEST(Sentences, DoesNotSplitAtPunctuationInsideAWord) {
  EXPECT_THAT(SplitSentences("no split.here"), ElementsAre("no split.here"));
  EXPECT_THAT(SplitSentences("a.b. c"), ElementsAre("a.b"));
  EXPECT_THAT(SplitSentences("wow!!! next"), ElementsAre("wow!!", "next"));
}

TEST(Sentences, PunctuationSwallowsTheNewlinesAfterIt) {
  EXPECT_THAT(SplitSentences("e.g.\n\nnext line"), ElementsAre("e.g", "next line"));
}

TEST(Sentences, UnicodeWhitespaceEndsASentence) {
  EXPECT_THAT(SplitSentences("End.\u00A0Start"), ElementsAre("End", "Start"));
}

TEST(Sentences, DropsPiecesOfTwoCharactersOrFewerCountingCodePoints) {
  EXPECT_THAT(SplitSentences("Да. Нет"), ElementsAre("Нет"));  // "Да" is 4 bytes, 2 characters
  EXPECT_THAT(SplitSentences(""), IsEmpty());
  EXPECT_THAT(SplitSentences("ab\ncd"), IsEmpty());
}

TEST(Sentences, PiecesPointIntoTheInput) {
  const std::string_view text = "First one. Second one";
  const auto sentences = SplitSentences(text);
  ASSERT_EQ(sentences.size(), 2u);
  EXPECT_EQ(sentences[1].data(), text.data() + 11);
}

}  // namespace
}  // namespace textclf::text
