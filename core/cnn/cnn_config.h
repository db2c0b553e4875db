// Resolves a user's TEXT_CNN / IMAGE_CNN configuration into one with every default made explicit,
// and rejects values that make no sense, naming the field to fix.
#pragma once

#include "absl/status/statusor.h"
#include "textclf/v1/cnn.pb.h"

namespace textclf::cnn {

absl::StatusOr<v1::TextCnnConfig> ResolveTextCnnConfig(const v1::TextCnnConfig& config);

// Channels, height, width, mean and std may stay unset here: the trainer fills them from the
// training tensors.
absl::StatusOr<v1::ImageCnnConfig> ResolveImageCnnConfig(const v1::ImageCnnConfig& config);

// BasicBlocks per stage of a ResNet of `depth` = 6n + 2.
inline int BlocksPerStage(int depth) { return (depth - 2) / 6; }

}  // namespace textclf::cnn
