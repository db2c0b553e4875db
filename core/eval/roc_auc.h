// Area under the ROC curve of a binary scorer, the ranking quality that accuracy at one
// threshold hides.
#pragma once

#include <cstdint>
#include <span>

namespace textclf::eval {

// The exact AUC: the probability that a random positive scores above a random negative, a tie
// counting one half (the Mann-Whitney U statistic over positives x negatives). O(n log n).
// NaN when the inputs hold no positive or no negative, or their sizes differ.
double RocAuc(std::span<const double> scores, std::span<const uint8_t> is_positive);

}  // namespace textclf::eval
