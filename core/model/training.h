// What a family's trainer receives and reports: the examples, a place to write its files, a
// cancellation flag and a progress callback. The registry publishes what the trainer wrote.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/common/cancellation.h"
#include "core/model/model_files.h"
#include "core/model/model_observer.h"
#include "textclf/v1/model.pb.h"
#include "textclf/v1/inputs.pb.h"

namespace textclf {

class ThreadPool;

// Examples by split. Text families fill the *texts vectors, tensor families (images) the
// *tensors ones, in the same order as the labels. Unlabeled families (XCLASS, ENCODER_MLM)
// get label -1 for examples sent without one.
struct TrainingSet {
  std::vector<std::string> classes;  // label index -> name
  std::vector<std::string> texts;    // TRAIN split
  std::vector<int> labels;
  std::vector<std::string> eval_texts;  // EVAL split, may be empty
  std::vector<int> eval_labels;
  std::vector<std::string> calibration_texts;  // CALIBRATION split, may be empty
  std::vector<int> calibration_labels;
  std::vector<v1::Tensor> tensors;  // TRAIN split of tensor families
  std::vector<v1::Tensor> eval_tensors;
  std::vector<v1::Tensor> calibration_tensors;
};

using ProgressFn =
    std::function<void(std::string_view stage, double fraction, std::string_view message)>;

struct TrainContext {
  ThreadPool* pool = nullptr;
  const CancellationToken* cancel = nullptr;
  // Called by one thread at a time (trainers that report from pool threads serialize the calls).
  ProgressFn progress = [](std::string_view, double, std::string_view) {};
  // An empty staging folder; the trainer writes its files here, with paths relative to it in
  // the manifest it returns.
  std::filesystem::path output_dir;
  // The verified files of another published model version (0: the latest), for trainers that
  // build on one (X-Class reads its encoder); null where no registry is at hand.
  std::function<absl::StatusOr<ModelFiles>(std::string name, int64_t version)> read_model_files;
  // A published version (0: the latest on disk) loaded for serving, loading it first if it was
  // not, with its scheduler: for trainers that score with other models (an ensemble's members).
  // Null where no registry is at hand.
  std::function<absl::StatusOr<LoadedVersion>(std::string name, int64_t version)> load_model;
};

}  // namespace textclf
