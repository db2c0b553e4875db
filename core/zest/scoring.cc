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
                     std::span<float> scores, std::span<float> logits) {
  const size_t n = class_sizes.size();
  if (text_bytes == 0) {
    std::fill(scores.begin(), scores.begin() + n, 0.f);
    std::fill(logits.begin(), logits.begin() + n, 0.f);
    return;
  }
  double min_affinity = 0, sum = 0;
  for (size_t c = 0; c < n; ++c) {
    const double affinity = 1.0 - (class_sizes[c] - header_size) / static_cast<double>(text_bytes);
    logits[c] = static_cast<float>(affinity);
    min_affinity = c == 0 ? affinity : std::min(min_affinity, affinity);
    sum += affinity;
  }
  const double spread = sum - min_affinity * static_cast<double>(n);
  for (size_t c = 0; c < n; ++c) {
    scores[c] = std::abs(spread) > 1e-3 ? static_cast<float>((logits[c] - min_affinity) / spread) : logits[c];
  }
}

}  // namespace textclf::zest
