#include "core/eval/temperature_scaling.h"

#include <algorithm>
#include <cmath>

namespace textclf::eval {

void SoftmaxWithTemperature(std::span<const float> logits, double temperature, std::span<float> out) {
  double max_logit = logits[0];
  for (float z : logits) max_logit = std::max<double>(max_logit, z);
  double sum = 0;
  for (size_t c = 0; c < logits.size(); ++c) {
    const double e = std::exp((logits[c] - max_logit) / temperature);
    out[c] = static_cast<float>(e);
    sum += e;
  }
  for (size_t c = 0; c < logits.size(); ++c) out[c] = static_cast<float>(out[c] / sum);
}

double SoftmaxNll(std::span<const float> logits, std::span<const int> labels, size_t classes,
                  double temperature) {
  if (labels.empty()) return 0;
  double total = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* row = logits.data() + i * classes;
    double max_logit = row[0];
    for (size_t c = 1; c < classes; ++c) max_logit = std::max<double>(max_logit, row[c]);
    double sum = 0;
    for (size_t c = 0; c < classes; ++c) sum += std::exp((row[c] - max_logit) / temperature);
    // -log p_y = log sum - (z_y - max) / T
    total += std::log(sum) - (row[labels[i]] - max_logit) / temperature;
  }
  return total / static_cast<double>(labels.size());
}

double FitTemperature(std::span<const float> logits, std::span<const int> labels, size_t classes,
                      double min_t, double max_t) {
  if (labels.empty() || classes < 2) return 1.0;
  double lo = std::log(min_t), hi = std::log(max_t);
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
  double fa = SoftmaxNll(logits, labels, classes, std::exp(a));
  double fb = SoftmaxNll(logits, labels, classes, std::exp(b));
  for (int iteration = 0; iteration < 80 && hi - lo > 1e-6; ++iteration) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = SoftmaxNll(logits, labels, classes, std::exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = SoftmaxNll(logits, labels, classes, std::exp(b));
    }
  }
  return std::exp((lo + hi) / 2);
}

}  // namespace textclf::eval
