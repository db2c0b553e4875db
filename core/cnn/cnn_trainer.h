// Trains TEXT_CNN and IMAGE_CNN models: mini-batch SGD or Adam with a cosine learning-rate decay,
// progress per epoch (loss, training and validation accuracy), early stopping on a validation
// split keeping the best epoch, seeded, on the CPU or the first CUDA device.
#pragma once

#include "absl/status/statusor.h"
#include "core/model/training.h"
#include "textclf/v1/model.pb.h"

namespace textclf::cnn {

// Write the model files into ctx.output_dir and return the manifest's family part.
absl::StatusOr<v1::Manifest> TrainTextCnn(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx);
absl::StatusOr<v1::Manifest> TrainImageCnn(const v1::TrainStart& start, const TrainingSet& data, TrainContext& ctx);

}  // namespace textclf::cnn
