// Reads a PyTorch torch.save checkpoint (a zip archive: <prefix>/data.pkl plus one raw storage per
// <prefix>/data/<key>) into plain float tensors by name. Storages saved on a CUDA device read like
// CPU ones. The zip is read with minizip; the pickle with state_dict_unpickler.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf::cnn {

struct CheckpointTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // integer tensors (num_batches_tracked) converted
  std::string dtype;          // the storage type it came from, e.g. "FloatStorage"
  std::string location;       // where it was saved, e.g. "cuda:0"
};

struct CheckpointLimits {
  // Bytes the reader may hold at once: the archive members it decompresses (data.pkl and the
  // storages) and the float tensors it builds, together. A checkpoint's sizes come from the file,
  // so without this bound a small crafted file could ask for any amount of memory.
  uint64_t max_bytes = uint64_t{16} << 30;
};

// Entries by name, in name order. INVALID_ARGUMENT naming the problem for files that are not
// such an archive (an old non-zip torch.save, a pickled module instead of a state dict, ...) or
// that need more than `limits` allow.
absl::StatusOr<std::map<std::string, CheckpointTensor>> ReadTorchCheckpoint(const std::filesystem::path& path,
                                                                            const CheckpointLimits& limits = {});
// The same for an archive in memory; `name` stands for the file in messages.
absl::StatusOr<std::map<std::string, CheckpointTensor>> ParseTorchCheckpoint(std::string_view archive,
                                                                             std::string_view name,
                                                                             const CheckpointLimits& limits = {});

}  // namespace textclf::cnn
