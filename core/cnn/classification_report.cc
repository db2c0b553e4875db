#include "core/cnn/classification_report.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/eval/calibration.h"
#include "core/eval/temperature_scaling.h"

namespace textclf::cnn {
namespace {

void CopyBins(const eval::CalibrationResult& c, google::protobuf::RepeatedPtrField<v1::CalibrationBin>* out) {
  out->Clear();
  for (const v1::ReliabilityBin& b : c.bins) {
    v1::CalibrationBin* bin = out->Add();
    bin->set_lower(b.lower());
    bin->set_upper(b.upper());
    bin->set_count(b.count());
    bin->set_mean_confidence(b.mean_confidence());
    bin->set_accuracy(b.accuracy());
  }
}

// Confidences, correctness and mean NLL at one temperature.
struct Calibrated {
  std::vector<double> confidence;
  std::vector<uint8_t> correct;
  double nll = 0;
};

Calibrated Calibrate(const LogitMatrix& m, std::span<const int> labels, double temperature) {
  Calibrated c;
  std::vector<float> p(m.classes);
  for (size_t i = 0; i < m.rows; ++i) {
    eval::SoftmaxWithTemperature(m.row(i), temperature, p);
    const size_t best = m.Argmax(i);
    c.confidence.push_back(p[best]);
    c.correct.push_back(static_cast<int>(best) == labels[i] ? 1 : 0);
  }
  c.nll = eval::SoftmaxNll(m.logits, labels, m.classes, temperature);
  return c;
}

}  // namespace

size_t LogitMatrix::Argmax(size_t i) const {
  std::span<const float> r = row(i);
  return static_cast<size_t>(std::max_element(r.begin(), r.end()) - r.begin());
}

double LogitMatrix::Confidence(size_t i, double temperature) const {
  std::vector<float> p(classes);
  eval::SoftmaxWithTemperature(row(i), temperature, p);
  return p[Argmax(i)];
}

void FillAccuracyAndCalibration(const LogitMatrix& m, std::span<const int> labels, double temperature,
                                v1::VariantReport* report) {
  report->set_examples(static_cast<int64_t>(m.rows));
  const Calibrated raw = Calibrate(m, labels, 1.0);
  const double n = std::max<double>(1.0, static_cast<double>(m.rows));
  report->set_top1(std::accumulate(raw.correct.begin(), raw.correct.end(), 0.0) / n);
  if (m.classes >= 5) {
    int64_t in_top5 = 0;
    for (size_t i = 0; i < m.rows; ++i) {
      std::span<const float> r = m.row(i);
      const float target = r[static_cast<size_t>(labels[i])];
      // Rank of the true class: classes scoring strictly higher (ties favour the true class).
      int64_t higher = 0;
      for (float z : r) higher += z > target ? 1 : 0;
      in_top5 += higher < 5 ? 1 : 0;
    }
    report->set_top5(static_cast<double>(in_top5) / n);
  }
  report->set_nll(raw.nll);
  const eval::CalibrationResult before = eval::ComputeCalibration(raw.confidence, raw.correct, kCalibrationBins);
  report->set_ece(before.ece);
  CopyBins(before, report->mutable_reliability());
  report->clear_confidence_histogram();
  for (const auto& b : before.bins) report->add_confidence_histogram(b.count());
  report->set_mean_confidence(std::accumulate(raw.confidence.begin(), raw.confidence.end(), 0.0) / n);

  report->set_temperature(temperature);
  const Calibrated scaled = Calibrate(m, labels, temperature);
  report->set_nll_after_temperature(scaled.nll);
  const eval::CalibrationResult after = eval::ComputeCalibration(scaled.confidence, scaled.correct, kCalibrationBins);
  report->set_ece_after_temperature(after.ece);
  CopyBins(after, report->mutable_reliability_after_temperature());
}

void FillSwaps(const LogitMatrix& float_logits, double float_temperature, const LogitMatrix& quantized,
               std::span<const int> labels, v1::VariantReport* report) {
  const size_t n = std::min(float_logits.rows, quantized.rows);
  std::vector<double> confidence(n);
  std::vector<uint8_t> swapped(n), float_correct(n), quantized_correct(n);
  int64_t total_swapped = 0;
  for (size_t i = 0; i < n; ++i) {
    confidence[i] = float_logits.Confidence(i, float_temperature);
    const size_t f = float_logits.Argmax(i), q = quantized.Argmax(i);
    swapped[i] = f != q ? 1 : 0;
    float_correct[i] = static_cast<int>(f) == labels[i] ? 1 : 0;
    quantized_correct[i] = static_cast<int>(q) == labels[i] ? 1 : 0;
    total_swapped += swapped[i];
  }
  report->set_swapped(total_swapped);
  report->set_swap_rate(n > 0 ? static_cast<double>(total_swapped) / static_cast<double>(n) : 0);

  report->clear_swaps_by_confidence();
  for (int b = 0; b < kSwapBuckets; ++b) {
    const double lower = static_cast<double>(b) / kSwapBuckets, upper = static_cast<double>(b + 1) / kSwapBuckets;
    int64_t count = 0, swaps = 0, before = 0, after = 0;
    for (size_t i = 0; i < n; ++i) {
      // Bucket b covers (lower, upper]; a confidence of 0 joins the first, as in the calibration bins.
      const int bucket = std::clamp(static_cast<int>(std::ceil(confidence[i] * kSwapBuckets)) - 1, 0, kSwapBuckets - 1);
      if (bucket != b) continue;
      ++count;
      if (swapped[i]) {
        ++swaps;
        before += float_correct[i];
        after += quantized_correct[i];
      }
    }
    v1::SwapBucket* bucket = report->add_swaps_by_confidence();
    bucket->set_lower(lower);
    bucket->set_upper(upper);
    bucket->set_count(count);
    bucket->set_swapped(swaps);
    bucket->set_swap_rate(count > 0 ? static_cast<double>(swaps) / static_cast<double>(count) : 0);
    bucket->set_accuracy_before(swaps > 0 ? static_cast<double>(before) / static_cast<double>(swaps) : 0);
    bucket->set_accuracy_after(swaps > 0 ? static_cast<double>(after) / static_cast<double>(swaps) : 0);
  }

  // Deciles: examples sorted by float confidence (ties by index), cut into 10 equal-count groups.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return confidence[a] < confidence[b]; });
  report->clear_swap_rate_by_confidence_decile();
  for (int d = 0; d < 10; ++d) {
    const size_t begin = n * static_cast<size_t>(d) / 10, end = n * static_cast<size_t>(d + 1) / 10;
    int64_t swaps = 0;
    for (size_t k = begin; k < end; ++k) swaps += swapped[order[k]];
    report->add_swap_rate_by_confidence_decile(end > begin ? static_cast<double>(swaps) / static_cast<double>(end - begin) : 0);
  }
}

}  // namespace textclf::cnn
