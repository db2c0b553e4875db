// Report metrics on hand-made logits: top-1/top-5, ECE and reliability bins, temperature, and
// swapped predictions by float confidence.
#include "core/cnn/classification_report.h"

#include <gtest/gtest.h>

#include <cmath>

namespace textclf::cnn {
namespace {

// Logits whose softmax gives the predicted class probability `p` over two classes.
void AddBinaryRow(LogitMatrix* m, int predicted, double p) {
  const float z = static_cast<float>(std::log(p / (1 - p)));
  m->logits.push_back(predicted == 0 ? z : 0.f);
  m->logits.push_back(predicted == 1 ? z : 0.f);
  ++m->rows;
}

TEST(ClassificationReport, EceAndReliabilityOnHandMadeConfidences) {
  LogitMatrix m;
  m.classes = 2;
  // Confidences 0.58 (right), 0.58 (wrong), 0.95 (right), 0.95 (right).
  AddBinaryRow(&m, 0, 0.58);
  AddBinaryRow(&m, 1, 0.58);
  AddBinaryRow(&m, 0, 0.95);
  AddBinaryRow(&m, 1, 0.95);
  const std::vector<int> labels = {0, 0, 0, 1};
  v1::VariantReport r;
  FillAccuracyAndCalibration(m, labels, 1.0, &r);
  EXPECT_EQ(r.examples(), 4);
  EXPECT_DOUBLE_EQ(r.top1(), 0.75);
  EXPECT_FALSE(r.has_top5());  // two classes
  // Bin of 0.58: accuracy 0.5, confidence 0.58; bin of 0.95: accuracy 1, confidence 0.95.
  // ECE = 0.5 * 0.08 + 0.5 * 0.05 = 0.065.
  EXPECT_NEAR(r.ece(), 0.065, 1e-6);
  ASSERT_EQ(r.reliability_size(), kCalibrationBins);
  ASSERT_EQ(r.confidence_histogram_size(), kCalibrationBins);
  int64_t total = 0;
  for (int b = 0; b < kCalibrationBins; ++b) total += r.confidence_histogram(b);
  EXPECT_EQ(total, 4);
  EXPECT_EQ(r.reliability(8).count(), 2);  // (8/15, 9/15] holds 0.58
  EXPECT_NEAR(r.reliability(8).accuracy(), 0.5, 1e-9);
  EXPECT_EQ(r.reliability(14).count(), 2);
  EXPECT_NEAR(r.mean_confidence(), (0.58 + 0.58 + 0.95 + 0.95) / 4, 1e-6);
  // NLL = -(log .58 + log .42 + log .95 + log .95) / 4.
  EXPECT_NEAR(r.nll(), -(std::log(0.58) + std::log(0.42) + 2 * std::log(0.95)) / 4, 1e-6);
  // A temperature of 1 changes nothing.
  EXPECT_NEAR(r.ece_after_temperature(), r.ece(), 1e-9);
}

TEST(ClassificationReport, HighTemperatureLowersConfidence) {
  LogitMatrix m;
  m.classes = 2;
  for (int i = 0; i < 10; ++i) AddBinaryRow(&m, 0, 0.99);
  std::vector<int> labels(10, 0);
  labels[0] = labels[1] = labels[2] = 1;  // 70% right at 99% confidence: over-confident
  v1::VariantReport r;
  FillAccuracyAndCalibration(m, labels, 3.0, &r);
  EXPECT_NEAR(r.ece(), 0.29, 1e-5);
  EXPECT_LT(r.ece_after_temperature(), r.ece());
  EXPECT_DOUBLE_EQ(r.temperature(), 3.0);
}

TEST(ClassificationReport, TopFiveCountsTheTrueClassAmongTheFiveHighest) {
  LogitMatrix m;
  m.classes = 7;
  m.rows = 2;
  m.logits = {7, 6, 5, 4, 3, 2, 1,   // true class 4 ranks fifth
              7, 6, 5, 4, 3, 2, 1};  // true class 6 ranks seventh
  v1::VariantReport r;
  FillAccuracyAndCalibration(m, std::vector<int>{4, 6}, 1.0, &r);
  ASSERT_TRUE(r.has_top5());
  EXPECT_DOUBLE_EQ(r.top5(), 0.5);
  EXPECT_DOUBLE_EQ(r.top1(), 0.0);
}

TEST(ClassificationReport, SwapsAreBucketedByFloatConfidence) {
  LogitMatrix f, q;
  f.classes = q.classes = 2;
  std::vector<int> labels;
  // 10 examples at float confidence 0.55 (bucket 5), half of them swapped; 10 at 0.97
  // (bucket 9), none swapped.
  for (int i = 0; i < 10; ++i) {
    AddBinaryRow(&f, 0, 0.55);
    AddBinaryRow(&q, i < 5 ? 1 : 0, 0.6);
    labels.push_back(i < 2 ? 1 : 0);  // two of the swapped ones become right
  }
  for (int i = 0; i < 10; ++i) {
    AddBinaryRow(&f, 1, 0.97);
    AddBinaryRow(&q, 1, 0.9);
    labels.push_back(1);
  }
  v1::VariantReport r;
  FillSwaps(f, 1.0, q, labels, &r);
  EXPECT_EQ(r.swapped(), 5);
  EXPECT_DOUBLE_EQ(r.swap_rate(), 0.25);
  ASSERT_EQ(r.swaps_by_confidence_size(), kSwapBuckets);
  const v1::SwapBucket& middle = r.swaps_by_confidence(5);
  EXPECT_EQ(middle.count(), 10);
  EXPECT_EQ(middle.swapped(), 5);
  EXPECT_DOUBLE_EQ(middle.swap_rate(), 0.5);
  EXPECT_DOUBLE_EQ(middle.accuracy_before(), 3.0 / 5);  // float said 0: right for 3 of 5
  EXPECT_DOUBLE_EQ(middle.accuracy_after(), 2.0 / 5);
  EXPECT_EQ(r.swaps_by_confidence(9).count(), 10);
  EXPECT_EQ(r.swaps_by_confidence(9).swapped(), 0);
  ASSERT_EQ(r.swap_rate_by_confidence_decile_size(), 10);
  // The lowest half of the examples by confidence holds every swap.
  double low = 0, high = 0;
  for (int d = 0; d < 5; ++d) low += r.swap_rate_by_confidence_decile(d);
  for (int d = 5; d < 10; ++d) high += r.swap_rate_by_confidence_decile(d);
  EXPECT_DOUBLE_EQ(low / 5, 0.5);
  EXPECT_DOUBLE_EQ(high, 0.0);
}

}  // namespace
}  // namespace textclf::cnn
