// The texts a load test sends: read once from a CSV column (with labels, for evaluate requests)
// or from a text file, then cut into fixed-size batches that requests reuse round-robin.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::loadgen {

struct Workload {
  std::vector<std::string> texts;
  std::vector<std::string> labels;  // empty without a label column

  // The batch number `index` of `batch_size` texts: consecutive texts, wrapping around at the
  // end so that every batch is full even when the data set is smaller than one batch.
  std::vector<size_t> BatchIndices(size_t index, size_t batch_size) const;
  // How many distinct batches the workload yields before it repeats (at least 1).
  size_t DistinctBatches(size_t batch_size) const;
};

absl::StatusOr<Workload> LoadCsvWorkload(const std::string& path, const std::string& text_column,
                                         const std::string& label_column);
// One text per non-empty line (a trailing '\r' is dropped).
absl::StatusOr<Workload> LoadTextFileWorkload(const std::string& path);

}  // namespace textclf::loadgen
