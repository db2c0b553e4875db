// Exact latency percentiles from every recorded sample (no histogram buckets, no estimation).
//
// Definition: nearest rank. The p-th percentile of n sorted samples is the sample of rank
// ceil(p/100 * n) (1-based), clamped to [1, n]: the smallest sample such that at least p% of the
// samples are less than or equal to it. So p0 is the minimum, p100 the maximum, and every
// percentile is a value that was actually observed (never an interpolation between two).
#pragma once

#include <cstddef>
#include <vector>

namespace textclf::loadgen {

// `sorted` ascending and non-empty; `percent` in [0, 100].
double NearestRankPercentile(const std::vector<double>& sorted, double percent);

struct Distribution {
  size_t count = 0;
  double min = 0, mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
};

// Sorts `values` in place and summarises them; all zero when empty.
Distribution Summarize(std::vector<double>& values);

}  // namespace textclf::loadgen
