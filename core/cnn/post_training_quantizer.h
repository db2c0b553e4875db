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
#include "core/model/family.h"
#include "core/model/model.h"
#include "core/model/training.h"
#include "textclf/v1/cnn.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf::cnn {

// The data, context and result types are the family interface's (core/model/family.h).
using textclf::QuantizationContext;
using textclf::QuantizationData;
using textclf::QuantizationResult;
using textclf::QuantizedVariant;

// `source` must be a float TEXT_CNN or IMAGE_CNN model; `start` resolved by ResolveQuantizeStart.
absl::StatusOr<QuantizationResult> QuantizeCnn(const Model& source, const v1::QuantizeStart& start,
                                               const QuantizationData& data, QuantizationContext& ctx);

}  // namespace textclf::cnn
