// The accuracy and calibration figures of a Quantize report, computed from logits: top-1/top-5,
// NLL, ECE with its reliability diagram and confidence histogram (before and after a temperature),
// and the predictions that quantization swapped, bucketed by the float model's confidence.
// No libtorch here.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "textclf/v1/cnn.pb.h"

namespace textclf::cnn {

inline constexpr int kCalibrationBins = 15;
inline constexpr int kSwapBuckets = 10;

// Row-major logits, rows x classes.
struct LogitMatrix {
  size_t rows = 0;
  size_t classes = 0;
  std::vector<float> logits;

  std::span<const float> row(size_t i) const { return {logits.data() + i * classes, classes}; }
  size_t Argmax(size_t i) const;
  // softmax(row / temperature) of the predicted class.
  double Confidence(size_t i, double temperature) const;
};

// Fills examples, top1, top5 (5 classes or more), nll, ece, reliability, confidence_histogram and
// mean_confidence at temperature 1, and temperature, nll/ece/reliability_after_temperature at
// `temperature`.
void FillAccuracyAndCalibration(const LogitMatrix& m, std::span<const int> labels, double temperature,
                                v1::VariantReport* report);

// Fills swapped, swap_rate, swaps_by_confidence (10 equal-width buckets of the float model's
// confidence) and swap_rate_by_confidence_decile (10 equal-count groups, lowest confidence
// first). `float_temperature` is the float model's serving temperature.
void FillSwaps(const LogitMatrix& float_logits, double float_temperature, const LogitMatrix& quantized,
               std::span<const int> labels, v1::VariantReport* report);

}  // namespace textclf::cnn
