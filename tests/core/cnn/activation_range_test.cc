// Activation range calibration: min-max, percentile and MSE thresholds on hand-made histograms.
#include "core/cnn/activation_range.h"

#include <gtest/gtest.h>

#include <vector>

namespace textclf::cnn {
namespace {

TEST(ActivationRange, MinMaxIsTheLargestMagnitudeAndTracksSign) {
  ActivationRange r;
  r.ObserveRange(0.f, 2.f);
  r.ObserveRange(0.5f, 3.f);
  EXPECT_TRUE(r.is_unsigned());
  EXPECT_FLOAT_EQ(r.Threshold(v1::QuantizeStart::MIN_MAX, 99.99, 8), 3.f);
  r.ObserveRange(-4.f, 1.f);
  EXPECT_FALSE(r.is_unsigned());
  EXPECT_FLOAT_EQ(r.max_abs(), 4.f);
  EXPECT_FLOAT_EQ(r.Threshold(v1::QuantizeStart::MIN_MAX, 99.99, 8), 4.f);
}

TEST(ActivationRange, PercentileCutsTheTail) {
  // 100 bins over [0, 100]: 99 values in bin 9 (9..10), one outlier in bin 99.
  std::vector<double> histogram(100, 0.0);
  histogram[9] = 99;
  histogram[99] = 1;
  EXPECT_NEAR(PercentileThreshold(histogram, 100.f, 99.0), 10.f, 1e-4);
  EXPECT_NEAR(PercentileThreshold(histogram, 100.f, 100.0), 100.f, 1e-4);
  // Halfway through the bin holding the 49.5th value.
  EXPECT_NEAR(PercentileThreshold(histogram, 100.f, 49.5), 9.5f, 1e-4);
}

TEST(ActivationRange, MseClipsARareOutlierWhenRoundingNoiseCostsMore) {
  // Bulk over [0, 1] of a [0, 10] range, one outlier at 10, 4-bit unsigned levels (15 steps).
  // Keeping the outlier makes every step 0.67 wide: noise 0.037 per bulk value, about 7500 in
  // all; clipping at 1 costs the outlier 81 and the bulk 75.
  std::vector<double> histogram(kHistogramBins, 0.0);
  for (int i = 0; i < kHistogramBins / 10; ++i) histogram[i] = 1000;
  histogram[kHistogramBins - 1] = 1;
  const float t = MseThreshold(histogram, 10.f, ActivationLevels(4, true));
  EXPECT_GE(t, 0.9f);
  EXPECT_LT(t, 2.f);
  // At 8 bits (255 steps) rounding noise is cheap, so the outlier keeps most of its range: the
  // error (10 - t)^2 + N t^2 / (12 * 255^2) with N = 1000 * bins / 10 is least near t = 7.9.
  const float t8 = MseThreshold(histogram, 10.f, ActivationLevels(8, true));
  EXPECT_GT(t8, 7.5f);
  EXPECT_LT(t8, 8.5f);
  // As many outliers as bulk values: the range is kept at 4 bits too.
  histogram[kHistogramBins - 1] = 2e5;
  EXPECT_GT(MseThreshold(histogram, 10.f, ActivationLevels(4, true)), 9.f);
}

TEST(ActivationRange, LevelsDependOnSign) {
  EXPECT_EQ(ActivationLevels(8, true), 255);
  EXPECT_EQ(ActivationLevels(8, false), 127);
  EXPECT_EQ(ActivationLevels(4, false), 7);
}

TEST(ActivationRange, PercentileAndMseUseTheSecondPassHistogram) {
  ActivationRange r;
  r.ObserveRange(-1.f, 100.f);
  std::vector<float> counts(kHistogramBins, 0.f);
  counts[10] = 1e5;  // |x| around 0.5
  counts[kHistogramBins - 1] = 1;
  r.AddHistogram(counts);
  EXPECT_LT(r.Threshold(v1::QuantizeStart::PERCENTILE, 99.9, 8), 1.f);
  EXPECT_LT(r.Threshold(v1::QuantizeStart::MSE, 99.9, 4), 10.f);  // see above: worth clipping at 4 bits
  EXPECT_FLOAT_EQ(r.Threshold(v1::QuantizeStart::MIN_MAX, 99.9, 8), 100.f);
}

}  // namespace
}  // namespace textclf::cnn
