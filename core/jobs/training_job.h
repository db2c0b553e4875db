// One training job from examples to a published, loaded and evaluated model version. Nothing is
// visible in the registry until the job publishes, and a job that fails or is cancelled (even
// after publishing, e.g. during its evaluation) leaves no version behind.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "core/common/cancellation.h"
#include "core/model/training.h"
#include "core/registry/model_manager.h"
#include "textclf/v1/model.pb.h"
#include "textclf/v1/inputs.pb.h"

namespace textclf {

class ThreadPool;

struct TrainingOutcome {
  v1::Manifest manifest;                    // as published
  std::optional<v1::EvalMetrics> eval;      // on the EVAL split, when one was sent
  double seconds = 0;                       // training alone, without evaluation
};

absl::StatusOr<TrainingOutcome> RunTrainingJob(const v1::TrainStart& start, const TrainingSet& data,
                                               registry::ModelManager& models, ThreadPool& pool,
                                               const CancellationToken& cancel,
                                               const ProgressFn& progress);

}  // namespace textclf
