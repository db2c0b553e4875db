// Reads a PyTorch torch.save checkpoint (a zip archive: <prefix>/data.pkl plus one raw storage per
// <prefix>/data/<key>) into plain float tensors by name. Storages saved on a CUDA device read like
// CPU ones. The zip is read with minizip; the pickle with state_dict_unpickler.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::cnn {

struct CheckpointTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // integer tensors (num_batches_tracked) converted
  std::string dtype;          // the storage type it came from, e.g. "FloatStorage"
  std::string location;       // where it was saved, e.g. "cuda:0"
};

// Entries by name, in name order. INVALID_ARGUMENT naming the problem for files that are not
// such an archive (an old non-zip torch.save, a pickled module instead of a state dict, ...).
absl::StatusOr<std::map<std::string, CheckpointTensor>> ReadTorchCheckpoint(const std::filesystem::path& path);

}  // namespace textclf::cnn
