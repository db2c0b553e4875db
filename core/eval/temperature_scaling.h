// Temperature scaling: the one-parameter calibration p = softmax(logits / T), with T fitted by
// minimising the negative log-likelihood on held-out examples (Guo et al., 2017).
#pragma once

#include <cstddef>
#include <span>

namespace textclf::eval {

// Mean negative log-likelihood of `labels` under softmax(logits / temperature); logits are
// row-major, rows x classes.
double SoftmaxNll(std::span<const float> logits, std::span<const int> labels, size_t classes,
                  double temperature);

// The temperature in [min_t, max_t] with the lowest NLL (golden-section search on log T, which
// is unimodal for this problem). Returns 1 when there are no examples.
double FitTemperature(std::span<const float> logits, std::span<const int> labels, size_t classes,
                      double min_t = 1e-4, double max_t = 100.0);

// softmax(logits / temperature) of one row, into `out`.
void SoftmaxWithTemperature(std::span<const float> logits, double temperature, std::span<float> out);

}  // namespace textclf::eval
