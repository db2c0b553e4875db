// Resolves a user's ZestConfig into one with every default made explicit, and rejects values
// that make no sense, saying which field to fix.
#pragma once

#include "absl/status/statusor.h"
#include "textclf/v1/model.pb.h"

namespace textclf::zest {

// Dictionary counts in the reference: log2(primary / 150) levels for binary models.
inline constexpr double kReferenceCountBaseBytes = 150.0;

absl::StatusOr<v1::ZestConfig> ResolveConfig(const v1::ZestConfig& config, int num_classes);

// True when the model uses the binary language-model form.
inline bool IsBinary(const v1::ZestConfig& resolved) {
  return resolved.mode() == v1::ZestConfig::BINARY;
}

}  // namespace textclf::zest
