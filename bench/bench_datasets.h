// The evaluation protocols of the benchmarks: which examples train and which test, per data set.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "bench/datasets/datasets.h"

namespace textclf::bench {

// clickbait, "study": the reference notebook's protocol. Characters are filtered with a filter
// learned on all headlines (document frequency >= 0.5%); headlines of at least 20 characters and
// 6 words (after the filter, counted by the no-punctuation string normaliser) are kept; the first
// quarter of each class tests and the rest trains.
// clickbait, "split": a stratified random 80/20 split of all headlines (seed 7).
// agnews, dbpedia14: their train and test files.
// "validation" (any data set): the training side of the above, split 80/20 (seed 11), for
// choosing settings without ever looking at the test side.
absl::StatusOr<data::Dataset> LoadBenchDataset(const std::filesystem::path& data_dir,
                                               const std::string& name, const std::string& protocol);

}  // namespace textclf::bench
