// The clipping range of one activation quantizer, chosen from calibration data: min-max, a
// percentile of |x|, or the threshold with the least expected squared quantization error (MSE).
// Statistics come in two passes: the range first (ObserveRange), then a histogram of |x| over
// [0, max|x|] (AddHistogram), which percentile and MSE need. No libtorch here.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "textclf/v1/cnn.pb.h"

namespace textclf::cnn {

inline constexpr int kHistogramBins = 2048;

class ActivationRange {
 public:
  void ObserveRange(float min, float max);
  // Counts of |x| in kHistogramBins equal bins over [0, max_abs()].
  void AddHistogram(std::span<const float> counts);

  float max_abs() const { return std::max(-min_, max_); }
  // Activations that were never negative (after a ReLU) use the unsigned range [0, threshold].
  bool is_unsigned() const { return min_ >= 0; }
  bool observed() const { return observed_; }

  // The clipping threshold for `bits`-bit quantization.
  float Threshold(v1::QuantizeStart::Calibration method, double percentile, int bits) const;

 private:
  bool observed_ = false;
  float min_ = 0, max_ = 0;
  std::vector<double> histogram_;
};

// Quantization levels on the positive side: 2^b - 1 for an unsigned range, 2^(b-1) - 1 signed.
int ActivationLevels(int bits, bool is_unsigned);

// Exposed for tests: thresholds from a histogram of |x| over [0, max_abs].
float PercentileThreshold(std::span<const double> histogram, float max_abs, double percentile);
float MseThreshold(std::span<const double> histogram, float max_abs, int levels);

}  // namespace textclf::cnn
