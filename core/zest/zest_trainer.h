// Trains a Zest model: learns the character filter, prepares samples, sizes and builds every
// class's dictionaries in parallel, and writes them with the manifest's Zest state.
#pragma once

#include "absl/status/statusor.h"
#include "core/model/training.h"
#include "textclf/v1/model.pb.h"

namespace textclf::zest {

// Writes the dictionaries into ctx.output_dir and returns the manifest's family part (family,
// classes, config, Zest state); the registry adds name, version and file checksums.
absl::StatusOr<v1::Manifest> Train(const v1::TrainStart& start, const TrainingSet& data,
                                   TrainContext& ctx);

}  // namespace textclf::zest
