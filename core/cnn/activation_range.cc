#include "core/cnn/activation_range.h"

#include <algorithm>
#include <cmath>

namespace textclf::cnn {

void ActivationRange::ObserveRange(float min, float max) {
  if (!observed_) {
    min_ = min;
    max_ = max;
    observed_ = true;
    return;
  }
  min_ = std::min(min_, min);
  max_ = std::max(max_, max);
}

void ActivationRange::AddHistogram(std::span<const float> counts) {
  if (histogram_.empty()) histogram_.assign(kHistogramBins, 0.0);
  for (size_t i = 0; i < counts.size() && i < histogram_.size(); ++i) histogram_[i] += counts[i];
}

int ActivationLevels(int bits, bool is_unsigned) {
  return is_unsigned ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
}

float PercentileThreshold(std::span<const double> histogram, float max_abs, double percentile) {
  double total = 0;
  for (double c : histogram) total += c;
  if (total <= 0 || histogram.empty()) return max_abs;
  const double wanted = total * std::clamp(percentile, 0.0, 100.0) / 100.0;
  const double width = static_cast<double>(max_abs) / static_cast<double>(histogram.size());
  double seen = 0;
  for (size_t i = 0; i < histogram.size(); ++i) {
    if (seen + histogram[i] >= wanted) {
      // Interpolate inside the bin.
      const double inside = histogram[i] > 0 ? (wanted - seen) / histogram[i] : 1.0;
      return static_cast<float>(width * (static_cast<double>(i) + inside));
    }
    seen += histogram[i];
  }
  return max_abs;
}

float MseThreshold(std::span<const double> histogram, float max_abs, int levels) {
  if (histogram.empty() || max_abs <= 0) return max_abs;
  const size_t bins = histogram.size();
  const double width = static_cast<double>(max_abs) / static_cast<double>(bins);
  double best_error = -1;
  size_t best = bins;
  // Candidate thresholds at bin edges, from 1/64 of the range up; every 4th edge is close enough.
  for (size_t edge = std::max<size_t>(1, bins / 64); edge <= bins; edge += 4) {
    const double t = width * static_cast<double>(edge);
    const double step = t / levels;
    const double rounding = step * step / 12;
    double error = 0;
    for (size_t i = 0; i < bins; ++i) {
      if (histogram[i] == 0) continue;
      const double v = width * (static_cast<double>(i) + 0.5);
      // Clipped values lose their excess; the others the rounding noise (no more than v^2: a
      // value below half a step rounds to zero).
      const double e = v > t ? (v - t) * (v - t) : std::min(v * v, rounding);
      error += histogram[i] * e;
    }
    if (best_error < 0 || error < best_error) {
      best_error = error;
      best = edge;
    }
  }
  return static_cast<float>(width * static_cast<double>(best));
}

float ActivationRange::Threshold(v1::QuantizeStart::Calibration method, double percentile, int bits) const {
  const float range = max_abs();
  if (method == v1::QuantizeStart::MIN_MAX || histogram_.empty() || range <= 0) return range;
  if (method == v1::QuantizeStart::MSE) return MseThreshold(histogram_, range, ActivationLevels(bits, is_unsigned()));
  return PercentileThreshold(histogram_, range, percentile);
}

}  // namespace textclf::cnn
