// What a family's trainer receives and reports: the examples, a place to write its files, a
// cancellation flag and a progress callback. The registry publishes what the trainer wrote.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/cancellation.h"
#include "textclf/v1/model.pb.h"
#include "textclf/v1/service.pb.h"

namespace textclf {

class ThreadPool;

struct TrainingSet {
  std::vector<std::string> classes;  // label index -> name
  std::vector<std::string> texts;    // TRAIN split
  std::vector<int> labels;
  std::vector<std::string> eval_texts;  // EVAL split, may be empty
  std::vector<int> eval_labels;
  std::vector<std::string> calibration_texts;  // CALIBRATION split, may be empty
  std::vector<int> calibration_labels;
};

using ProgressFn =
    std::function<void(std::string_view stage, double fraction, std::string_view message)>;

struct TrainContext {
  ThreadPool* pool = nullptr;
  const CancellationToken* cancel = nullptr;
  ProgressFn progress = [](std::string_view, double, std::string_view) {};
  // An empty staging folder; the trainer writes its files here, with paths relative to it in
  // the manifest it returns.
  std::filesystem::path output_dir;
};

}  // namespace textclf
