// Resolves a QuantizeStart: defaults made explicit (weight_bits [8], activation_bits 8, percentile
// 99.99, first and last layers at 8 bits, temperature scaling on, target = source) and bad
// values refused with the field to fix (the caller checks the target's name against the
// registry's rules). No libtorch here.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "textclf/v1/cnn.pb.h"

namespace textclf::cnn {

inline constexpr int kFloatBits = 32;

absl::StatusOr<v1::QuantizeStart> ResolveQuantizeStart(const v1::QuantizeStart& start);

// "W8A8", "W4A8", "W4A32" (float activations).
std::string VariantLabel(int weight_bits, int activation_bits);

}  // namespace textclf::cnn
