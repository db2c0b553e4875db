// Imports a PyTorch CIFAR ResNet checkpoint (a torch.save of its state dict) as an IMAGE_CNN
// model: every key mapped to this family's tensor names (aliases of common implementations:
// "module." prefixes, "shortcut." for "downsample.", "linear." for "fc."), the depth, input
// channels and classes read from the shapes, and any missing or unexpected key named.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cnn/cnn_network.h"
#include "textclf/v1/model.pb.h"

namespace textclf::cnn {

struct ImportedResNet {
  TensorMap tensors;  // this family's names, batch norms unfolded
  int depth = 0;
  int channels = 0;
  int classes = 0;
};

absl::StatusOr<ImportedResNet> ReadResNetCheckpoint(const std::filesystem::path& checkpoint);

struct ImportOptions {
  std::vector<std::string> classes;  // default "0", "1", ...
  int height = 32;
  int width = 32;
  std::vector<float> mean;  // per channel, for inputs in [0, 1]; default 0.5
  std::vector<float> std;   // default 0.25
};

// Writes the model version's files into `output_dir` and returns the manifest's family part, for
// the registry to publish.
absl::StatusOr<v1::Manifest> ImportCheckpoint(const std::filesystem::path& checkpoint, const ImportOptions& options,
                                              const std::filesystem::path& output_dir);

}  // namespace textclf::cnn
