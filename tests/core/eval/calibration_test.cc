// Hand-computed expected calibration errors and reliability bins.
#include "core/eval/calibration.h"

#include <gtest/gtest.h>

#include <vector>

namespace textclf::eval {
namespace {

TEST(Calibration, MatchesAHandComputedEceOverTwoBins) {
  // Bin (0, 0.5]: confidences 0.2, 0.4, 0.5, one right: |1/3 - 1.1/3| = 0.1/3.
  // Bin (0.5, 1]: confidences 0.6, 0.8, 1.0, two right: |2/3 - 0.8| = 0.4/3.
  // ECE = 3/6 * 0.1/3 + 3/6 * 0.4/3 = 0.25/3.
  std::vector<double> confidence = {0.2, 0.4, 0.5, 0.6, 0.8, 1.0};
  std::vector<uint8_t> correct = {0, 1, 0, 1, 1, 0};
  CalibrationResult result = ComputeCalibration(confidence, correct, 2);
  EXPECT_NEAR(result.ece, 0.25 / 3, 1e-12);
  ASSERT_EQ(result.bins.size(), 2u);
  EXPECT_EQ(result.bins[0].count(), 3);
  EXPECT_DOUBLE_EQ(result.bins[0].lower(), 0.0);
  EXPECT_DOUBLE_EQ(result.bins[0].upper(), 0.5);
  EXPECT_NEAR(result.bins[0].mean_confidence(), 1.1 / 3, 1e-12);
  EXPECT_NEAR(result.bins[0].accuracy(), 1.0 / 3, 1e-12);
  EXPECT_EQ(result.bins[1].count(), 3);
  EXPECT_NEAR(result.bins[1].mean_confidence(), 0.8, 1e-12);
  EXPECT_NEAR(result.bins[1].accuracy(), 2.0 / 3, 1e-12);
}

TEST(Calibration, ReportsEmptyBinsWithCountZero) {
  std::vector<double> confidence = {0.95, 0.97};
  std::vector<uint8_t> correct = {1, 1};
  CalibrationResult result = ComputeCalibration(confidence, correct, 10);
  ASSERT_EQ(result.bins.size(), 10u);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(result.bins[i].count(), 0) << i;
    EXPECT_DOUBLE_EQ(result.bins[i].accuracy(), 0.0);
    EXPECT_DOUBLE_EQ(result.bins[i].mean_confidence(), 0.0);
  }
  EXPECT_EQ(result.bins[9].count(), 2);
  EXPECT_NEAR(result.ece, 0.04, 1e-12);
}

TEST(Calibration, PutsEdgesInTheLowerBinAndZeroInTheFirst) {
  // 0.6 * 5 rounds above 3 in floating point; it still belongs to (0.4, 0.6].
  std::vector<double> confidence = {0.0, 0.2, 0.6, 0.6000001, 1.0};
  std::vector<uint8_t> correct = {1, 1, 1, 1, 1};
  CalibrationResult result = ComputeCalibration(confidence, correct, 5);
  ASSERT_EQ(result.bins.size(), 5u);
  EXPECT_EQ(result.bins[0].count(), 2);
  EXPECT_EQ(result.bins[1].count(), 0);
  EXPECT_EQ(result.bins[2].count(), 1);
  EXPECT_EQ(result.bins[3].count(), 1);
  EXPECT_EQ(result.bins[4].count(), 1);
}

TEST(Calibration, IsZeroForAConfidentPerfectModel) {
  std::vector<double> confidence = {1.0, 1.0, 1.0};
  std::vector<uint8_t> correct = {1, 1, 1};
  EXPECT_DOUBLE_EQ(ComputeCalibration(confidence, correct).ece, 0.0);
}

TEST(Calibration, IsZeroWithNoExamples) {
  CalibrationResult result = ComputeCalibration({}, {});
  EXPECT_DOUBLE_EQ(result.ece, 0.0);
  EXPECT_EQ(result.bins.size(), 15u);
}

}  // namespace
}  // namespace textclf::eval
