// perf_analyzer's stability rule: a step is stable once the throughputs of its last three
// windows each lie within a given percentage of their mean.
#pragma once

#include <vector>

namespace textclf::loadgen {

inline constexpr int kStabilityWindows = 3;

// True when the last kStabilityWindows entries of `throughputs` are all within `percent` of
// their mean; false with fewer entries.
bool IsStable(const std::vector<double>& throughputs, double percent);

}  // namespace textclf::loadgen
