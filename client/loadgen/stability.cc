// The stability rule over window throughputs.
#include "client/loadgen/stability.h"

#include <cmath>
#include <numeric>

namespace textclf::loadgen {

bool IsStable(const std::vector<double>& throughputs, double percent) {
  if (throughputs.size() < static_cast<size_t>(kStabilityWindows)) return false;
  const auto last = throughputs.end() - kStabilityWindows;
  const double mean = std::accumulate(last, throughputs.end(), 0.0) / kStabilityWindows;
  if (mean <= 0) return false;
  for (auto it = last; it != throughputs.end(); ++it) {
    if (std::abs(*it - mean) > percent / 100.0 * mean) return false;
  }
  return true;
}

}  // namespace textclf::loadgen
