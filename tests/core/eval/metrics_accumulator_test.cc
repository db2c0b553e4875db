// EvalMetrics from hand-made predictions whose answers are worked out in the comments.
#include "core/eval/metrics_accumulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace textclf::eval {
namespace {

TEST(MetricsAccumulator, ScoresAPerfectClassifierAsOne) {
  MetricsAccumulator acc({"neg", "pos"}, /*positive_class=*/1);
  std::vector<float> p0 = {1.f, 0.f}, p1 = {0.f, 1.f};
  acc.Add(0, 0, p0, 0.0);
  acc.Add(1, 1, p1, 1.0);
  acc.Add(1, 1, p1, 0.9);
  v1::EvalMetrics m = acc.Finish();
  EXPECT_EQ(m.examples(), 3);
  EXPECT_DOUBLE_EQ(m.accuracy(), 1.0);
  EXPECT_DOUBLE_EQ(m.macro_f1(), 1.0);
  ASSERT_TRUE(m.has_auc());
  EXPECT_DOUBLE_EQ(m.auc(), 1.0);
  EXPECT_DOUBLE_EQ(m.ece(), 0.0);
  EXPECT_DOUBLE_EQ(m.nll(), 0.0);
  EXPECT_EQ(m.reliability_size(), 15);
  EXPECT_EQ(m.reliability(14).count(), 3);
  ASSERT_EQ(m.per_class_size(), 2);
  EXPECT_EQ(m.per_class(1).label(), "pos");
  EXPECT_EQ(m.per_class(1).support(), 2);
}

TEST(MetricsAccumulator, ScoresAnAlwaysWrongClassifierAsZero) {
  MetricsAccumulator acc({"neg", "pos"}, /*positive_class=*/1);
  acc.Add(0, 1, {}, 0.9);
  acc.Add(0, 1, {}, 0.8);
  acc.Add(1, 0, {}, 0.1);
  v1::EvalMetrics m = acc.Finish();
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.0);
  EXPECT_DOUBLE_EQ(m.macro_f1(), 0.0);
  for (const auto& c : m.per_class()) {
    EXPECT_DOUBLE_EQ(c.precision(), 0.0);
    EXPECT_DOUBLE_EQ(c.recall(), 0.0);
    EXPECT_DOUBLE_EQ(c.f1(), 0.0);
  }
  EXPECT_DOUBLE_EQ(m.auc(), 0.0);
  EXPECT_EQ((std::vector<int64_t>(m.confusion().begin(), m.confusion().end())),
            (std::vector<int64_t>{0, 2, 1, 0}));
}

TEST(MetricsAccumulator, MatchesAHandComputedThreeClassConfusion) {
  // Rows (true) a: [2 1 1], b: [0 3 0], c: [0 1 1]. Accuracy 6/9.
  // a: P 2/2, R 2/4, F1 2/3. b: P 3/5, R 3/3, F1 3/4. c: P 1/2, R 1/2, F1 1/2.
  // Macro F1 = (2/3 + 3/4 + 1/2) / 3 = 23/36.
  MetricsAccumulator acc({"a", "b", "c"});
  const int rows[3][3] = {{2, 1, 1}, {0, 3, 0}, {0, 1, 1}};
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p)
      for (int n = 0; n < rows[t][p]; ++n) acc.Add(t, p, {}, 0.0);
  v1::EvalMetrics m = acc.Finish();
  EXPECT_EQ(m.examples(), 9);
  EXPECT_DOUBLE_EQ(m.accuracy(), 6.0 / 9.0);
  EXPECT_NEAR(m.macro_f1(), 23.0 / 36.0, 1e-12);
  ASSERT_EQ(m.per_class_size(), 3);
  EXPECT_DOUBLE_EQ(m.per_class(0).precision(), 1.0);
  EXPECT_DOUBLE_EQ(m.per_class(0).recall(), 0.5);
  EXPECT_NEAR(m.per_class(0).f1(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(m.per_class(0).support(), 4);
  EXPECT_DOUBLE_EQ(m.per_class(1).precision(), 0.6);
  EXPECT_DOUBLE_EQ(m.per_class(1).recall(), 1.0);
  EXPECT_NEAR(m.per_class(1).f1(), 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(m.per_class(2).f1(), 0.5);
  EXPECT_EQ((std::vector<int64_t>(m.confusion().begin(), m.confusion().end())),
            (std::vector<int64_t>{2, 1, 1, 0, 3, 0, 0, 1, 1}));
  EXPECT_FALSE(m.has_auc());
  EXPECT_DOUBLE_EQ(m.ece(), 0.0);
  EXPECT_EQ(m.reliability_size(), 0);
}

TEST(MetricsAccumulator, CountsAnUnseenClassAsZeroInTheMacroAverage) {
  MetricsAccumulator acc({"a", "b", "unseen"});
  acc.Add(0, 0, {}, 0.0);
  acc.Add(1, 1, {}, 0.0);
  v1::EvalMetrics m = acc.Finish();
  EXPECT_DOUBLE_EQ(m.per_class(2).precision(), 0.0);
  EXPECT_DOUBLE_EQ(m.per_class(2).recall(), 0.0);
  EXPECT_DOUBLE_EQ(m.per_class(2).f1(), 0.0);
  EXPECT_EQ(m.per_class(2).support(), 0);
  EXPECT_NEAR(m.macro_f1(), 2.0 / 3.0, 1e-12);
}

TEST(MetricsAccumulator, UsesThePredictedClassProbabilityAsConfidence) {
  // The prediction is class 0 although class 1 is more probable: confidence 0.3, correct.
  // The second is wrong at confidence 0.45. NLL = (-log 0.3 - log 0.55) / 2; each sits alone
  // in its bin, so ECE = |1 - 0.3| / 2 + |0 - 0.45| / 2.
  MetricsAccumulator acc({"a", "b"});
  std::vector<float> p = {0.3f, 0.7f}, q = {0.55f, 0.45f};
  acc.Add(0, 0, p, 0.0);
  acc.Add(0, 1, q, 0.0);
  v1::EvalMetrics m = acc.Finish();
  EXPECT_NEAR(m.nll(), (-std::log(0.3) - std::log(0.55)) / 2, 1e-6);
  EXPECT_NEAR(m.ece(), 0.7 / 2 + 0.45 / 2, 1e-6);
  int64_t counted = 0;
  for (const auto& bin : m.reliability()) counted += bin.count();
  EXPECT_EQ(counted, 2);
  EXPECT_EQ(m.reliability(4).count(), 1);  // 0.3 lies in (4/15, 5/15]
  EXPECT_EQ(m.reliability(6).count(), 1);  // 0.45 lies in (6/15, 7/15]
}

TEST(MetricsAccumulator, KeepsNllFiniteWhenTheTrueClassHasZeroProbability) {
  MetricsAccumulator acc({"a", "b"});
  std::vector<float> p = {0.f, 1.f};
  acc.Add(0, 1, p, 0.0);
  EXPECT_NEAR(acc.Finish().nll(), -std::log(1e-12), 1e-9);
}

TEST(MetricsAccumulator, LeavesAucUnsetWhenOneClassIsAbsent) {
  MetricsAccumulator acc({"neg", "pos"}, /*positive_class=*/1);
  acc.Add(1, 1, {}, 0.9);
  acc.Add(1, 0, {}, 0.2);
  EXPECT_FALSE(acc.Finish().has_auc());
}

TEST(MetricsAccumulator, ComputesAucFromThePositiveScoreWithTies) {
  MetricsAccumulator acc({"neg", "pos"}, /*positive_class=*/1);
  acc.Add(1, 1, {}, 1.0);
  acc.Add(0, 1, {}, 1.0);
  acc.Add(1, 1, {}, 2.0);
  v1::EvalMetrics m = acc.Finish();
  ASSERT_TRUE(m.has_auc());
  EXPECT_DOUBLE_EQ(m.auc(), 0.75);
}

TEST(MetricsAccumulator, ReportsZerosWithNoExamples) {
  v1::EvalMetrics m = MetricsAccumulator({"a", "b"}).Finish();
  EXPECT_EQ(m.examples(), 0);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.0);
  EXPECT_DOUBLE_EQ(m.macro_f1(), 0.0);
  EXPECT_EQ(m.confusion_size(), 4);
}

}  // namespace
}  // namespace textclf::eval
