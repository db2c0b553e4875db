// Collects a model's predictions one example at a time and turns them into the EvalMetrics
// that Evaluate reports: accuracy, per-class and macro F1, confusion, AUC and calibration.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "textclf/v1/model.pb.h"

namespace textclf::eval {

class MetricsAccumulator {
 public:
  // positive_class >= 0 makes this a binary evaluation with an AUC over `positive_score`.
  explicit MetricsAccumulator(std::vector<std::string> classes, int positive_class = -1);

  // Labels are class indices. `probabilities` is empty or holds one entry per class; calibration
  // and NLL cover the examples that came with them, and `predicted`'s probability is the
  // confidence. Examples whose labels are out of range are a caller bug: they are ignored
  // (and assert in debug builds) rather than corrupt the counts.
  void Add(int true_label, int predicted, std::span<const float> probabilities,
           double positive_score);

  // Everything but seconds, examples_per_s, dataset and evaluated_at, which the caller knows.
  v1::EvalMetrics Finish() const;

 private:
  std::vector<std::string> classes_;
  int positive_class_;
  std::vector<int64_t> confusion_;  // row-major, rows are true classes
  int64_t examples_ = 0;
  // Per example that came with probabilities.
  std::vector<double> confidence_;
  std::vector<uint8_t> correct_;
  double nll_sum_ = 0;
  // Binary evaluations only.
  std::vector<double> positive_scores_;
  std::vector<uint8_t> is_positive_;
};

}  // namespace textclf::eval
