// One quantization job from a float source version and its CALIBRATION/EVAL examples to new,
// published (and loaded) quantized versions: every variant or none.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/common/cancellation.h"
#include "core/model/family.h"
#include "core/model/training.h"
#include "core/registry/model_manager.h"
#include "textclf/v1/cnn.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf {

struct QuantizeSource {
  v1::Manifest manifest;
  const FamilyDescriptor* family = nullptr;
};

// The source version's manifest and family; FAILED_PRECONDITION for a family Quantize does not
// apply to, or a target model of another family. Version 0 picks the latest float version:
// quantizing publishes new versions of the same model by default, and a second Quantize call
// should start from the float model again (an explicitly named quantized version is refused by
// the quantizer, naming its float source).
absl::StatusOr<QuantizeSource> FindQuantizeSource(const FamilyTable& families, registry::Repository& repository,
                                                  const v1::QuantizeStart& start);

struct QuantizeOutcome {
  std::vector<int64_t> versions;  // published, in the report's variant order
  v1::QuantizeReport report;
};

// `examples` holds the CALIBRATION and EVAL splits (ExampleCollector::ForModel). Publishes every
// variant or none, then loads them unless start.skip_load().
absl::StatusOr<QuantizeOutcome> RunQuantizeJob(const FamilyDescriptor& family, const v1::QuantizeStart& start,
                                               const Model& source, const TrainingSet& examples,
                                               registry::ModelManager& models, const CancellationToken& cancel,
                                               const ProgressFn& progress);

}  // namespace textclf
