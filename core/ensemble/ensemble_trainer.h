// Trains an ENSEMBLE version: resolves and loads its members (pinning "latest" to a number),
// checks they classify texts into the same classes, scores the calibration examples with each
// through its queue, and fits the combination. The members themselves are not retrained.
#pragma once

#include "absl/status/statusor.h"
#include "core/model/training.h"
#include "textclf/v1/model.pb.h"

namespace textclf::ensemble {

absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx);

}  // namespace textclf::ensemble
