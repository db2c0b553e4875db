// A model family as the rest of textclf sees it: one descriptor per family, defined in the
// family's own folder (core/zest/zest_family.cc, ...), collected in one list (core/families) that
// the server hands to the registry, the jobs and the runtime. Nothing outside a family's folder
// switches on the family: it asks the descriptor. core/README.md says how to add a family.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model/model.h"
#include "core/model/model_files.h"
#include "core/model/model_observer.h"
#include "core/model/training.h"
#include "textclf/v1/model.pb.h"
#include "textclf/v1/inputs.pb.h"

namespace textclf {

// What a family's examples must look like, for Train, Evaluate and Quantize alike.
struct ExampleRules {
  bool tensors = false;          // examples carry tensors (images), not texts
  bool labels_required = true;   // false: unlabeled examples are welcome (label -1)
  bool classes_required = true;  // false: no class names either (an encoder has no classes)
  // false: a Train call may send no TRAIN examples (an ensemble needs at most a CALIBRATION split);
  // the classes are then the labels seen in any split.
  bool train_examples_required = true;
};

// How a family's versions are served unless their config or the server's overrides say otherwise.
struct ServingDefaults {
  // Whether an instance runs on a CUDA device when one is visible (tensor models do; Zest's
  // dictionaries do not).
  bool prefers_gpu = false;
  int max_batch_size = 256;
  int64_t max_queue_delay_us = 0;
  // CPU instances (threads taking batches) unless an instance group says otherwise.
  int cpu_instances = 1;
};

// Validated inputs of a source model with class-index labels, for post-training quantization.
// Without EVAL examples the report evaluates on the calibration examples.
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

struct FamilyDescriptor {
  v1::Family id = v1::FAMILY_UNSPECIFIED;
  std::string_view name;  // as users write it: "zest", "text_cnn", ...
  // The ModelConfig case that configures this family; FAMILY_CONFIG_NOT_SET for one without a
  // config message of its own.
  v1::ModelConfig::FamilyConfigCase config_case = v1::ModelConfig::FAMILY_CONFIG_NOT_SET;
  ExampleRules examples;
  ServingDefaults serving;

  absl::StatusOr<std::unique_ptr<Model>> (*load)(v1::Manifest manifest, const ModelFiles& files) = nullptr;
  // Families whose versions serve through other loaded versions (ENSEMBLE); null for the rest.
  // `dependencies` names them from a manifest, each pinned to a version; the registry loads them
  // first, keeps them loaded while this version is, refuses to unload or delete them meanwhile,
  // and hands them to `load_with_dependencies` (instead of `load`) in the same order.
  std::vector<v1::ModelReference> (*dependencies)(const v1::Manifest& manifest) = nullptr;
  absl::StatusOr<std::unique_ptr<Model>> (*load_with_dependencies)(v1::Manifest manifest,
                                                                   std::vector<LoadedVersion> dependencies) = nullptr;
  absl::StatusOr<v1::Manifest> (*train)(const v1::TrainStart& start, const TrainingSet& data,
                                        TrainContext& ctx) = nullptr;
  // Null for families that cannot be quantized. `start` is resolved (ResolveQuantizeStart).
  absl::StatusOr<QuantizationResult> (*quantize)(const Model& source, const v1::QuantizeStart& start,
                                                 const QuantizationData& data, QuantizationContext& ctx) = nullptr;
  // The bytes a training job with this config would hold at its peak (parameters with their
  // optimizer state, a batch's activations); 0 where the family cannot tell or needs little.
  double (*training_memory_bytes)(const v1::ModelConfig& config) = nullptr;
};

// The rough cost model behind training_memory_bytes, shared by the families that estimate.
namespace training_memory {
constexpr double kFloat = 4;
// Parameters are held with their gradient and Adam's two moments.
constexpr double kBytesPerParameter = 4 * kFloat;
// Activations of the forward pass are kept for the backward pass, which makes about as many
// again; libtorch's temporaries add some more.
constexpr double kBytesPerActivation = 3 * kFloat;
}  // namespace training_memory

// INVALID_ARGUMENT, saying what to lower, when the family estimates that training with `config`
// needs more than `limit` bytes (0: no limit).
absl::Status CheckTrainingMemory(const FamilyDescriptor& family, const v1::ModelConfig& config, int64_t limit);

// The families a server knows, looked up by id or name.
class FamilyTable {
 public:
  explicit FamilyTable(std::vector<const FamilyDescriptor*> families);

  // INVALID_ARGUMENT when the family is not set or is one this server does not know (a newer
  // client's), listing the ones it knows.
  absl::StatusOr<const FamilyDescriptor*> Find(v1::Family family) const;
  // "zest, xclass, ...", for messages.
  std::string Names() const;
  const std::vector<const FamilyDescriptor*>& all() const { return families_; }

 private:
  std::vector<const FamilyDescriptor*> families_;
};

}  // namespace textclf
