// Labelled examples as the CSV file the textclf CLI reads with --csv: a "headline,label" header,
// then one row per example with every field quoted.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace textclf::testing {

// Writes `texts` and `labels` (as many of each) to `path`, replacing it; returns `path`.
std::filesystem::path WriteLabeledCsv(const std::filesystem::path& path, const std::vector<std::string>& texts,
                                      const std::vector<std::string>& labels);

}  // namespace textclf::testing
