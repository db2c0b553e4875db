// Resolves an EncoderConfig (ENCODER_MLM) into one with every default explicit, rejecting values
// that make no sense with a message naming the field.
#pragma once

#include "absl/status/statusor.h"
#include "core/encoder/bert_config.h"
#include "textclf/v1/xclass.pb.h"

namespace textclf::encoder {

absl::StatusOr<v1::EncoderConfig> ResolveEncoderConfig(const v1::EncoderConfig& config);

// The architecture a resolved configuration describes, for a vocabulary of `vocab_size`.
BertConfig BertConfigFor(const v1::EncoderConfig& resolved, int vocab_size);

}  // namespace textclf::encoder
