// Which pseudo-labelled documents train the final classifier (X-Class step 5): the most
// confident fraction of each class (confidence: the posterior of the assigned class), or, with
// the study's per-class thresholds, the documents of each class whose distance (1 - posterior)
// is at most that class's mean distance, so that tight classes keep more documents.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace textclf::xclass {

struct SelectionOptions {
  double fraction = 0.5;
  bool per_class_thresholds = false;
};

// Indices of the selected documents, ascending. A class with documents keeps at least one.
std::vector<size_t> SelectConfident(std::span<const int> labels, std::span<const double> confidence, int classes,
                                    const SelectionOptions& options);

}  // namespace textclf::xclass
