// The final classifier of X-Class (step 6), trained on the selected pseudo-labelled documents:
// FINE_TUNE trains the encoder and a linear head on mean-pooled last-layer states (AdamW, linear
// warm-up and decay); FROZEN_HEAD keeps the encoder and fits a softmax regression on mean-pooled
// states of the representation layer. Either way a model is encoder + pooling + linear head.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/encoder/encoder.h"
#include "core/encoder/word_encoding.h"
#include "core/xclass/xclass_pipeline.h"
#include "textclf/v1/xclass.pb.h"

namespace textclf::xclass {

struct LinearHead {
  int classes = 0;
  int hidden = 0;
  std::vector<float> weight;  // classes x hidden
  std::vector<float> bias;    // classes
};

// How features are computed for the head, at training and at serving time alike.
encoder::EncodingOptions FeatureOptions(const v1::XClassConfig& resolved);

struct FinalClassifierResult {
  LinearHead head;
  double train_loss = 0;  // mean loss of the last epoch
};

// Trains on texts[i] with labels[i]; FINE_TUNE changes `encoder`'s weights.
absl::StatusOr<FinalClassifierResult> TrainFinalClassifier(encoder::Encoder& encoder, std::span<const std::string> texts,
                                                           std::span<const int> labels, int classes,
                                                           const v1::XClassConfig& resolved,
                                                           const CancellationToken* cancel,
                                                           const StageProgress& progress);

// head.safetensors: "weight" [classes, hidden] and "bias" [classes].
absl::StatusOr<std::string> HeadToSafetensors(const LinearHead& head);
absl::StatusOr<LinearHead> HeadFromSafetensors(std::string_view bytes);

// logits = features W^T + b; `features` rows x hidden, `logits` rows x classes.
void ApplyHead(const LinearHead& head, std::span<const float> features, size_t rows, std::span<float> logits);

}  // namespace textclf::xclass
