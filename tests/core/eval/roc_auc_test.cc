// Hand-computed AUCs: perfect, inverted, tied and undefined rankings.
#include "core/eval/roc_auc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace textclf::eval {
namespace {

TEST(RocAuc, IsOneWhenEveryPositiveOutscoresEveryNegative) {
  std::vector<double> scores = {0.1, 0.2, 0.8, 0.9};
  std::vector<uint8_t> positive = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(RocAuc(scores, positive), 1.0);
}

TEST(RocAuc, IsZeroWhenTheRankingIsInverted) {
  std::vector<double> scores = {0.9, 0.8, 0.2, 0.1};
  std::vector<uint8_t> positive = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(RocAuc(scores, positive), 0.0);
}

TEST(RocAuc, CountsTiesAsOneHalf) {
  // Pairs (positive, negative): (1 vs 1) ties = 1/2, (2 vs 1) wins = 1; 1.5 of 2 pairs.
  std::vector<double> scores = {1, 1, 2};
  std::vector<uint8_t> positive = {1, 0, 1};
  EXPECT_DOUBLE_EQ(RocAuc(scores, positive), 0.75);
}

TEST(RocAuc, IsOneHalfWhenAllScoresAreEqual) {
  std::vector<double> scores = {3, 3, 3, 3, 3};
  std::vector<uint8_t> positive = {1, 0, 0, 1, 0};
  EXPECT_DOUBLE_EQ(RocAuc(scores, positive), 0.5);
}

TEST(RocAuc, MatchesAHandCountOnAMixedRanking) {
  // Negatives 0.1, 0.4, 0.4; positives 0.35, 0.4, 0.8.
  // 0.35 beats 0.1 = 1; 0.4 beats 0.1 and ties twice = 2; 0.8 beats all = 3. 6 of 9.
  std::vector<double> scores = {0.1, 0.4, 0.35, 0.8, 0.4, 0.4};
  std::vector<uint8_t> positive = {0, 0, 1, 1, 1, 0};
  EXPECT_DOUBLE_EQ(RocAuc(scores, positive), 6.0 / 9.0);
}

TEST(RocAuc, IsNaNWhenAClassIsAbsent) {
  std::vector<double> scores = {0.1, 0.2};
  EXPECT_TRUE(std::isnan(RocAuc(scores, std::vector<uint8_t>{1, 1})));
  EXPECT_TRUE(std::isnan(RocAuc(scores, std::vector<uint8_t>{0, 0})));
  EXPECT_TRUE(std::isnan(RocAuc({}, {})));
}

TEST(RocAuc, IsNaNWhenSizesDiffer) {
  std::vector<double> scores = {0.1, 0.2, 0.3};
  EXPECT_TRUE(std::isnan(RocAuc(scores, std::vector<uint8_t>{0, 1})));
}

}  // namespace
}  // namespace textclf::eval
