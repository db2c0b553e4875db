#include "core/eval/metrics_accumulator.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/eval/calibration.h"
#include "core/eval/roc_auc.h"

namespace textclf::eval {
namespace {

constexpr int kCalibrationBins = 15;  // the number EvalMetrics.ece documents
constexpr double kMinProbability = 1e-12;  // keeps NLL finite when a model is sure and wrong

double Ratio(int64_t num, int64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

}  // namespace

MetricsAccumulator::MetricsAccumulator(std::vector<std::string> classes, int positive_class)
    : classes_(std::move(classes)),
      positive_class_(positive_class),
      confusion_(classes_.size() * classes_.size(), 0) {}

void MetricsAccumulator::Add(int true_label, int predicted, std::span<const float> probabilities,
                             double positive_score) {
  const int k = static_cast<int>(classes_.size());
  const bool valid = true_label >= 0 && true_label < k && predicted >= 0 && predicted < k &&
                     (probabilities.empty() || probabilities.size() == classes_.size());
  assert(valid);
  if (!valid) return;

  ++examples_;
  ++confusion_[static_cast<size_t>(true_label) * k + predicted];
  if (!probabilities.empty()) {
    confidence_.push_back(probabilities[predicted]);
    correct_.push_back(predicted == true_label ? 1 : 0);
    nll_sum_ -= std::log(std::max(static_cast<double>(probabilities[true_label]), kMinProbability));
  }
  if (positive_class_ >= 0) {
    positive_scores_.push_back(positive_score);
    is_positive_.push_back(true_label == positive_class_ ? 1 : 0);
  }
}

v1::EvalMetrics MetricsAccumulator::Finish() const {
  const size_t k = classes_.size();
  v1::EvalMetrics metrics;
  metrics.set_examples(examples_);

  int64_t correct = 0;
  double f1_sum = 0;
  for (size_t c = 0; c < k; ++c) {
    int64_t tp = confusion_[c * k + c], support = 0, predicted = 0;
    for (size_t j = 0; j < k; ++j) {
      support += confusion_[c * k + j];
      predicted += confusion_[j * k + c];
    }
    correct += tp;
    // Undefined precision (never predicted) or recall (no support) is 0, as scikit-learn's
    // default zero_division does. F1 = 2tp / (2tp + fp + fn) equals the harmonic mean whenever
    // both are defined and is 0 otherwise, because then tp = 0.
    // A class with neither support nor predictions counts as F1 = 0 in the macro average, as
    // sklearn does when given labels=all classes; sklearn's default instead averages only over
    // the labels present in y_true or y_pred, and would leave such a class out.
    const int64_t fp = predicted - tp, fn = support - tp;
    v1::ClassMetrics* cm = metrics.add_per_class();
    cm->set_label(classes_[c]);
    cm->set_precision(Ratio(tp, predicted));
    cm->set_recall(Ratio(tp, support));
    cm->set_f1(Ratio(2 * tp, 2 * tp + fp + fn));
    cm->set_support(support);
    f1_sum += cm->f1();
  }
  metrics.set_accuracy(Ratio(correct, examples_));
  metrics.set_macro_f1(k == 0 ? 0.0 : f1_sum / static_cast<double>(k));
  for (int64_t n : confusion_) metrics.add_confusion(n);

  if (positive_class_ >= 0) {
    double auc = RocAuc(positive_scores_, is_positive_);
    if (!std::isnan(auc)) metrics.set_auc(auc);
  }
  if (!confidence_.empty()) {
    CalibrationResult calibration = ComputeCalibration(confidence_, correct_, kCalibrationBins);
    metrics.set_ece(calibration.ece);
    for (auto& bin : calibration.bins) *metrics.add_reliability() = std::move(bin);
    metrics.set_nll(nll_sum_ / static_cast<double>(confidence_.size()));
  }
  return metrics;
}

}  // namespace textclf::eval
