// The values of --concurrency and --rate: a comma-separated list whose items are numbers or
// ranges, as perf_analyzer's --concurrency-range takes them:
//   START:END:STEP    linear,    1:9:4     = 1, 5, 9
//   START:END:xFACTOR geometric, 1:64:x2   = 1, 2, 4, 8, 16, 32, 64 (2x is read the same)
// A range stops at the last value not above END (1:10:4 = 1, 5, 9).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::loadgen {

// At most this many values per flag: a typo (1:100000:1) is refused, not run for days.
inline constexpr size_t kMaxSweepValues = 1000;

// Every value of `items`, in order; an error names `flag` and the item at fault.
absl::StatusOr<std::vector<double>> ExpandSweep(const std::vector<std::string>& items, const std::string& flag);

}  // namespace textclf::loadgen
