// Labelled images of an IDX pair (Fashion-MNIST and the like) as the Example messages that Train,
// Quantize and Evaluate take: uint8 tensors [1, H, W], labels as class names. One reader for the
// CLI and the benchmarks, so they all send images the same way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "textclf/v1/inputs.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf::data {

// Items [offset, offset + limit) (limit 0: to the end) of an image file and its label file.
// Label k becomes class_names[k], or the number k where the names do not reach that far.
absl::StatusOr<std::vector<v1::Example>> ReadIdxExamples(const std::filesystem::path& images_path,
                                                         const std::filesystem::path& labels_path,
                                                         int64_t offset, int64_t limit,
                                                         const std::vector<std::string>& class_names);

}  // namespace textclf::data
