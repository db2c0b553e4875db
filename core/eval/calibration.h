// Calibration of predicted confidences: does "90% sure" mean right 90% of the time?
// Expected calibration error and the reliability diagram behind it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "textclf/v1/model.pb.h"

namespace textclf::eval {

struct CalibrationResult {
  double ece = 0;
  std::vector<v1::ReliabilityBin> bins;  // always num_bins of them, empty ones with count 0
};

// Equal-width bins over [0, 1]: bin i covers (i/B, (i+1)/B], and a confidence of exactly 0
// joins the first bin. ECE = sum over bins of (count / n) * |accuracy - mean confidence|.
// Confidences outside [0, 1] are clamped; NaN counts as 0. `correct` must match in size
// (extra entries of the longer span are ignored).
CalibrationResult ComputeCalibration(std::span<const double> confidence,
                                     std::span<const uint8_t> correct, int num_bins = 15);

}  // namespace textclf::eval
