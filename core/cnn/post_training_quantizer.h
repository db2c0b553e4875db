// Post-training quantization of a float CNN model (Xia et al. 2021): batch norms folded into the
// convolutions, weights rounded to symmetric b-bit integers per output channel (or per tensor)
// and stored packed, activations rounded to b-bit integers at the input of every convolution and
// linear layer with ranges calibrated on the calibration data, then a temperature fitted on the
// same data. Each variant is written into its own folder and evaluated by loading it back from
// those files, so the report describes exactly what the registry will serve.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/model.h"
#include "core/model/training.h"
#include "textclf/v1/cnn.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf::cnn {

// Validated inputs of the source model with class-index labels. Without EVAL examples the
// report evaluates on the calibration examples.
struct QuantizationData {
  std::vector<ModelInput> calibration;
  std::vector<int> calibration_labels;
  std::vector<ModelInput> eval;
  std::vector<int> eval_labels;
};

struct QuantizedVariant {
  int weight_bits = 0;
  std::filesystem::path dir;  // the variant's files
  v1::Manifest manifest;      // family part, for the registry to publish
};

struct QuantizationResult {
  std::vector<QuantizedVariant> variants;  // in the order of start.weight_bits
  v1::QuantizeReport report;               // variants' model and version left for the publisher
};

struct QuantizationContext {
  const CancellationToken* cancel = nullptr;
  ProgressFn progress = [](std::string_view, double, std::string_view) {};
  // An empty folder for one variant's files.
  std::function<absl::StatusOr<std::filesystem::path>()> new_output_dir;
};

// `source` must be a float TEXT_CNN or IMAGE_CNN model; `start` resolved by ResolveQuantizeStart.
absl::StatusOr<QuantizationResult> QuantizeCnn(const Model& source, const v1::QuantizeStart& start,
                                               const QuantizationData& data, QuantizationContext& ctx);

}  // namespace textclf::cnn
