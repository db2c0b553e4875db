// Masked-language-model pretraining from scratch (BERT's recipe without next-sentence
// prediction): 15% of the real tokens are chosen, 80% of them become [MASK], 10% a random token
// and 10% stay; the loss is cross-entropy on the chosen ones. AdamW, linear warm-up then linear
// decay, gradient clipping at 1.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "core/encoder/encoder.h"
#include "core/model/training.h"
#include "textclf/v1/xclass.pb.h"

namespace textclf::encoder {

struct PretrainResult {
  int64_t steps = 0;
  int64_t sequences = 0;
  double final_loss = 0;       // mean loss of the last 5% of steps
  double masked_accuracy = 0;  // of the last 5% of steps
  double seconds = 0;
};

// Trains `encoder` (made with a masked-LM head) on `texts` as `resolved` says: documents longer
// than max_length are cut into several sequences. Reports progress as stage "pretrain".
absl::StatusOr<PretrainResult> PretrainMlm(Encoder& encoder, std::span<const std::string> texts,
                                           const v1::EncoderConfig& resolved, TrainContext& ctx);

struct PretrainedEncoder {
  CheckpointFiles checkpoint;  // config.json, model.safetensors (with the MLM head), vocab.txt
  PretrainResult result;
  int64_t parameters = 0;
  std::string device;
};

// A new encoder as `resolved` (ResolveEncoderConfig) describes, with the vocabulary of
// resolved.vocab_file() (or one learned from `texts` when it names none), pretrained on `texts`
// from random weights.
absl::StatusOr<PretrainedEncoder> PretrainFromScratch(std::span<const std::string> texts,
                                                      const v1::EncoderConfig& resolved, TrainContext& ctx);

// What a manifest records of it (file names as WriteCheckpointFolder writes them).
v1::EncoderState DescribePretrained(const v1::EncoderConfig& resolved, const PretrainedEncoder& pretrained);

}  // namespace textclf::encoder
