// Resolves an EncoderConfig (ENCODER_MLM) into one with every default explicit, rejecting values
// that make no sense with a message naming the field.
#pragma once

#include "absl/status/statusor.h"
#include "core/encoder/bert_config.h"
#include "textclf/v1/xclass.pb.h"

namespace textclf::encoder {

// Without a vocab_file, a vocabulary of vocab_size tokens is learned from the training texts.
inline constexpr int32_t kDefaultLearnedVocabSize = 8000;
inline constexpr int32_t kMinLearnedVocabSize = 64;
inline constexpr int32_t kMaxLearnedVocabSize = 100000;

absl::StatusOr<v1::EncoderConfig> ResolveEncoderConfig(const v1::EncoderConfig& config);

// The architecture a resolved configuration describes, for a vocabulary of `vocab_size`.
BertConfig BertConfigFor(const v1::EncoderConfig& resolved, int vocab_size);

}  // namespace textclf::encoder
