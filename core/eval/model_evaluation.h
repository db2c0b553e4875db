// Runs a model over labelled texts (or tensors) and feeds the metrics. The Evaluate RPC and the
// evaluation after training both score through the version's scheduler (LoadedVersion::Score);
// the Device overloads run the model directly, for tools and tests without a runtime.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "core/eval/metrics_accumulator.h"
#include "core/model/model.h"

namespace textclf::eval {

// A metrics accumulator set up for `model`: its classes, and its positive class for AUC.
MetricsAccumulator AccumulatorFor(const Model& model);

// Scores one chunk of inputs into `out`.
using ScoreFn = std::function<absl::Status(std::span<const ModelInput> inputs, ScoreMatrix* out)>;

// Scores `inputs` in chunks of `chunk` with `score` and adds each result to `metrics`.
absl::Status AddPredictions(const Model& model, std::span<const ModelInput> inputs, std::span<const int> labels,
                            const ScoreFn& score, size_t chunk, MetricsAccumulator* metrics);

// Classifies `texts` in batches of `batch_size` on `device` and adds each result to `metrics`.
absl::Status AddPredictions(const Model& model, std::span<const std::string> texts,
                            std::span<const int> labels, const Device& device, size_t batch_size,
                            MetricsAccumulator* metrics);

// The same for any inputs (texts or tensors), e.g. the images of IMAGE_CNN models.
absl::Status AddPredictions(const Model& model, std::span<const ModelInput> inputs,
                            std::span<const int> labels, const Device& device, size_t batch_size,
                            MetricsAccumulator* metrics);

}  // namespace textclf::eval
