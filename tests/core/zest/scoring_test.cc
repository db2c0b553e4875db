#include "core/zest/scoring.h"

#include <gtest/gtest.h>

#include <vector>

namespace textclf::zest {
namespace {

TEST(ScoreBinary, SubtractsTheHeaderAndDividesByTheRawSize) {
  // header 9: raw 60 -> 51; pos 30 -> 21; neg 50 -> 41.
  BinaryScore s = ScoreBinary(30, 50, 60, 9, 100);
  EXPECT_DOUBLE_EQ(s.pos_rate, 21.0 / 51.0);
  EXPECT_DOUBLE_EQ(s.neg_rate, 41.0 / 51.0);
  EXPECT_DOUBLE_EQ(s.score, 20.0 / 51.0);
}

TEST(ScoreBinary, ScoresTextsShorterThanFiveBytesAsZero) {
  BinaryScore s = ScoreBinary(30, 50, 60, 9, 4);
  EXPECT_EQ(s.score, 0);
  EXPECT_EQ(s.pos_rate, 1);
  EXPECT_EQ(s.neg_rate, 1);
}

TEST(ScoreBinary, ScoresZeroWhenTheRawSizeIsOnlyHeader) {
  EXPECT_EQ(ScoreBinary(30, 50, 9, 9, 100).score, 0);
}

TEST(ScoreMulticlass, NormalisesAffinitiesAsTheReference) {
  // rates 0.5, 0.6, 0.7 -> affinities 0.5, 0.4, 0.3; min 0.3; spread 1.2 - 0.9 = 0.3.
  std::vector<float> sizes = {59, 69, 79}, scores(3), logits(3);
  ScoreMulticlass(sizes, 9, 100, scores, logits);
  EXPECT_NEAR(scores[0], 0.2 / 0.3, 1e-6);
  EXPECT_NEAR(scores[1], 0.1 / 0.3, 1e-6);
  EXPECT_NEAR(scores[2], 0.0, 1e-6);
  EXPECT_NEAR(logits[0], 0.5, 1e-6);
  EXPECT_NEAR(logits[1], 0.4, 1e-6);
  EXPECT_NEAR(logits[2], 0.3, 1e-6);
}

TEST(ScoreMulticlass, LeavesNearlyEqualAffinitiesUnnormalised) {
  std::vector<float> sizes = {59, 59.01f}, scores(2), logits(2);
  ScoreMulticlass(sizes, 9, 100, scores, logits);
  EXPECT_NEAR(scores[0], 0.5, 1e-6);
  EXPECT_NEAR(scores[1], 0.4999, 1e-6);
}

}  // namespace
}  // namespace textclf::zest
