// Nearest-rank percentiles and the summary of a set of samples.
#include "client/loadgen/percentiles.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace textclf::loadgen {

double NearestRankPercentile(const std::vector<double>& sorted, double percent) {
  const double n = static_cast<double>(sorted.size());
  // p/100 * n is often meant to be a whole number (99.9% of 1000) but lands a hair above it in
  // binary floating point; the tolerance keeps ceil from skipping to the next rank.
  const double exact = percent / 100.0 * n;
  double rank = std::ceil(exact - 1e-9 * std::max(1.0, exact));
  rank = std::clamp(rank, 1.0, n);
  return sorted[static_cast<size_t>(rank) - 1];
}

Distribution Summarize(std::vector<double>& values) {
  Distribution d;
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  d.count = values.size();
  d.min = values.front();
  d.max = values.back();
  d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  d.p50 = NearestRankPercentile(values, 50);
  d.p90 = NearestRankPercentile(values, 90);
  d.p95 = NearestRankPercentile(values, 95);
  d.p99 = NearestRankPercentile(values, 99);
  d.p999 = NearestRankPercentile(values, 99.9);
  return d;
}

}  // namespace textclf::loadgen
