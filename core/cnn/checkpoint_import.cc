#include "core/cnn/checkpoint_import.h"

#include <torch/torch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/cnn/cnn_config.h"
#include "core/cnn/model_writer.h"
#include "core/cnn/torch_checkpoint.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {
namespace {

std::string CanonicalName(std::string name) {
  if (absl::StartsWith(name, "module.")) name = name.substr(7);
  name = absl::StrReplaceAll(name, {{".shortcut.", ".downsample."}});
  if (absl::StartsWith(name, "linear.")) name = "fc." + name.substr(7);
  return name;
}

}  // namespace

absl::StatusOr<ImportedResNet> ReadResNetCheckpoint(const std::filesystem::path& checkpoint) {
  ASSIGN_OR_RETURN(auto entries, ReadTorchCheckpoint(checkpoint));
  ImportedResNet out;
  for (auto& [original, tensor] : entries) {
    const std::string name = CanonicalName(original);
    if (absl::EndsWith(name, ".num_batches_tracked")) continue;  // bookkeeping of training only
    if (out.tensors.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(checkpoint.string(), ": two keys map to ", name));
    }
    out.tensors[name] = ToTorch(tensor.shape, tensor.values);
  }
  auto conv1 = out.tensors.find("conv1.weight");
  auto fc = out.tensors.find("fc.weight");
  if (conv1 == out.tensors.end() || conv1->second.dim() != 4 || fc == out.tensors.end() || fc->second.dim() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        checkpoint.string(), " is not a CIFAR ResNet state dict: conv1.weight (4-d) and fc.weight (2-d) are required"));
  }
  int blocks = 0;
  while (out.tensors.contains(absl::StrCat("layer1.", blocks, ".conv1.weight"))) ++blocks;
  if (blocks == 0) return absl::InvalidArgumentError(absl::StrCat(checkpoint.string(), " has no layer1.0 block"));
  out.depth = 6 * blocks + 2;
  out.channels = static_cast<int>(conv1->second.size(1));
  out.classes = static_cast<int>(fc->second.size(0));
  Architecture architecture;
  architecture.family = v1::IMAGE_CNN;
  architecture.image.set_depth(out.depth);
  architecture.image.set_channels(out.channels);
  if (absl::Status s = CheckTensors(out.tensors, architecture, out.classes, 0, /*folded=*/false); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(checkpoint.string(), " as a ResNet-", out.depth, ": ", std::string(s.message())));
  }
  for (const auto& [name, t] : out.tensors) {
    if (!torch::isfinite(t).all().item<bool>()) {
      return absl::InvalidArgumentError(absl::StrCat(checkpoint.string(), ": tensor ", name, " holds NaN or infinity"));
    }
  }
  return out;
}

absl::StatusOr<v1::Manifest> ImportCheckpoint(const std::filesystem::path& checkpoint, const ImportOptions& options,
                                              const std::filesystem::path& output_dir) {
  ASSIGN_OR_RETURN(ImportedResNet imported, ReadResNetCheckpoint(checkpoint));
  std::vector<std::string> classes = options.classes;
  if (classes.empty()) {
    for (int c = 0; c < imported.classes; ++c) classes.push_back(std::to_string(c));
  }
  if (static_cast<int>(classes.size()) != imported.classes) {
    return absl::InvalidArgumentError(absl::StrCat(classes.size(), " class names were given; the checkpoint's fc layer has ",
                                                   imported.classes, " outputs"));
  }
  v1::ImageCnnConfig config;
  config.set_depth(imported.depth);
  config.set_channels(imported.channels);
  config.set_height(options.height);
  config.set_width(options.width);
  for (int c = 0; c < imported.channels; ++c) {
    config.add_mean(options.mean.empty() ? 0.5f : options.mean[static_cast<size_t>(c) % options.mean.size()]);
    config.add_std(options.std.empty() ? 0.25f : options.std[static_cast<size_t>(c) % options.std.size()]);
  }
  config.mutable_training()->set_epochs(-1);
  ASSIGN_OR_RETURN(config, ResolveImageCnnConfig(config));
  CnnModelParts parts;
  parts.family = v1::IMAGE_CNN;
  parts.classes = std::move(classes);
  *parts.config.mutable_image_cnn() = config;
  parts.state.set_imported_from(checkpoint.filename().string());
  parts.state.set_temperature(1.0);
  parts.tensors = ToArchive(imported.tensors);
  return WriteCnnModel(parts, output_dir);
}

}  // namespace textclf::cnn
