#include "core/eval/calibration.h"

#include <algorithm>
#include <cmath>

namespace textclf::eval {
namespace {

// The bin whose interval (lower, upper] holds c. The arithmetic guess is corrected against the
// edges themselves, because c * B can land on the wrong side of an edge (0.6 * 5 > 3).
int BinOf(double c, int num_bins) {
  const double b = num_bins;
  int i = static_cast<int>(std::ceil(c * b)) - 1;
  i = std::clamp(i, 0, num_bins - 1);
  if (i > 0 && c <= i / b) --i;
  if (i < num_bins - 1 && c > (i + 1) / b) ++i;
  return i;
}

}  // namespace

CalibrationResult ComputeCalibration(std::span<const double> confidence,
                                     std::span<const uint8_t> correct, int num_bins) {
  num_bins = std::max(num_bins, 1);
  const size_t n = std::min(confidence.size(), correct.size());
  std::vector<double> confidence_sum(num_bins, 0.0);
  std::vector<int64_t> correct_count(num_bins, 0);
  std::vector<int64_t> count(num_bins, 0);
  for (size_t k = 0; k < n; ++k) {
    double c = std::isnan(confidence[k]) ? 0.0 : std::clamp(confidence[k], 0.0, 1.0);
    int i = BinOf(c, num_bins);
    confidence_sum[i] += c;
    correct_count[i] += correct[k] ? 1 : 0;
    ++count[i];
  }

  CalibrationResult result;
  result.bins.reserve(num_bins);
  for (int i = 0; i < num_bins; ++i) {
    v1::ReliabilityBin& bin = result.bins.emplace_back();
    bin.set_lower(static_cast<double>(i) / num_bins);
    bin.set_upper(static_cast<double>(i + 1) / num_bins);
    bin.set_count(count[i]);
    if (count[i] == 0) continue;
    const double mean_confidence = confidence_sum[i] / count[i];
    const double accuracy = static_cast<double>(correct_count[i]) / count[i];
    bin.set_mean_confidence(mean_confidence);
    bin.set_accuracy(accuracy);
    result.ece += static_cast<double>(count[i]) / n * std::abs(accuracy - mean_confidence);
  }
  return result;
}

}  // namespace textclf::eval
