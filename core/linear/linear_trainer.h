// Trains a LINEAR model: resolves the config, extracts every text's features once, carves a
// validation split, and fits multinomial logistic regression by Adagrad, one pass at a time,
// keeping the weights of the epoch with the best validation accuracy (stopping two epochs after
// it); without a fixed l2 it does so for each of a few and keeps the best. Naive Bayes instead
// counts once and chooses its smoothing the same way. The weights are then stored as the config
// says (float32, float16 or int8), and the temperature is fitted to the stored weights on the
// CALIBRATION split or, without one, on the validation split.
#pragma once

#include "absl/status/statusor.h"
#include "core/model/training.h"

namespace textclf::linear {

// Every default made explicit; INVALID_ARGUMENT, naming the field, for values out of range.
absl::StatusOr<v1::LinearConfig> ResolveConfig(v1::LinearConfig config);

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx);

}  // namespace textclf::linear
