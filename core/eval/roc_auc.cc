#include "core/eval/roc_auc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace textclf::eval {

double RocAuc(std::span<const double> scores, std::span<const uint8_t> is_positive) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (scores.size() != is_positive.size()) return kNaN;
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });

  // Walking groups of equal scores upwards, each positive beats every negative below its group
  // and ties with the negatives inside it. Counts stay integral (in halves) until the end, so
  // large sets lose no precision to accumulated rounding.
  double negatives_below = 0, positives = 0, u_twice = 0;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    double group_positives = 0, group_negatives = 0;
    while (end < order.size() && scores[order[end]] == scores[order[begin]]) {
      (is_positive[order[end]] ? group_positives : group_negatives) += 1;
      ++end;
    }
    u_twice += group_positives * (2 * negatives_below + group_negatives);
    negatives_below += group_negatives;
    positives += group_positives;
    begin = end;
  }
  const double negatives = negatives_below;
  if (positives == 0 || negatives == 0) return kNaN;
  return u_twice / 2 / (positives * negatives);
}

}  // namespace textclf::eval
