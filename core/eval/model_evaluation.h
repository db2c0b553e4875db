// Runs a model over labelled texts (or tensors) and feeds the metrics, for training's EVAL split.
// The Evaluate RPC shares only AccumulatorFor: its texts go through the model's batcher as BULK
// work instead of calling the model directly.
#pragma once

#include <span>
#include <string>

#include "absl/status/status.h"
#include "core/eval/metrics_accumulator.h"
#include "core/model/model.h"

namespace textclf::eval {

// A metrics accumulator set up for `model`: its classes, and its positive class for AUC.
MetricsAccumulator AccumulatorFor(const Model& model);

// Classifies `texts` in batches of `batch_size` on `device` and adds each result to `metrics`.
absl::Status AddPredictions(const Model& model, std::span<const std::string> texts,
                            std::span<const int> labels, const Device& device, size_t batch_size,
                            MetricsAccumulator* metrics);

// The same for any inputs (texts or tensors), e.g. the images of IMAGE_CNN models.
absl::Status AddPredictions(const Model& model, std::span<const ModelInput> inputs,
                            std::span<const int> labels, const Device& device, size_t batch_size,
                            MetricsAccumulator* metrics);

}  // namespace textclf::eval
