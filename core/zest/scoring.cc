#include "core/zest/scoring.h"

#include <algorithm>
#include <cmath>

namespace textclf::zest {

BinaryScore ScoreBinary(double pos_size, double neg_size, double raw_size, int header_size,
                        size_t text_bytes) {
  BinaryScore s;
  if (text_bytes < 5) return s;
  const double raw = raw_size - header_size;
  if (raw <= 0) return s;
  s.pos_rate = (pos_size - header_size) / raw;
  s.neg_rate = (neg_size - header_size) / raw;
  s.score = s.neg_rate - s.pos_rate;
  return s;
}

void ScoreMulticlass(std::span<const float> class_sizes, int header_size, size_t text_bytes,
                     std::span<float> scores, std::span<float> probabilities) {
  const size_t n = class_sizes.size();
  if (text_bytes == 0) {
    std::fill(scores.begin(), scores.begin() + n, 0.f);
    std::fill(probabilities.begin(), probabilities.begin() + n, 1.f / static_cast<float>(n));
    return;
  }
  double min_affinity = 0, sum = 0;
  for (size_t c = 0; c < n; ++c) {
    double affinity = 1.0 - (class_sizes[c] - header_size) / static_cast<double>(text_bytes);
    scores[c] = static_cast<float>(affinity);
    min_affinity = c == 0 ? affinity : std::min(min_affinity, affinity);
    sum += affinity;
  }
  const double spread = sum - min_affinity * static_cast<double>(n);
  if (std::abs(spread) > 1e-3) {
    for (size_t c = 0; c < n; ++c) {
      scores[c] = static_cast<float>((scores[c] - min_affinity) / spread);
      probabilities[c] = scores[c];
    }
  } else {
    std::fill(probabilities.begin(), probabilities.begin() + n, 1.f / static_cast<float>(n));
  }
}

double BinaryProbability(double score, double temperature) {
  return 1.0 / (1.0 + std::exp(-score / temperature));
}

}  // namespace textclf::zest
