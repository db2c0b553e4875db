#include "core/ensemble/ensemble_family.h"

#include "absl/strings/str_cat.h"
#include "core/ensemble/ensemble_model.h"
#include "core/ensemble/ensemble_trainer.h"

namespace textclf::ensemble {
namespace {

// An ensemble has no files of its own to load from; only the registry, which holds its members,
// can load it (load_with_dependencies).
absl::StatusOr<std::unique_ptr<Model>> LoadWithoutMembers(v1::Manifest manifest, const ModelFiles&) {
  return absl::FailedPreconditionError(absl::StrCat("model ", manifest.name(), " version ", manifest.version(),
                                                    " is an ensemble; it loads through the registry with its members"));
}

FamilyDescriptor Describe() {
  FamilyDescriptor d;
  d.id = v1::ENSEMBLE;
  d.name = "ensemble";
  d.config_case = v1::ModelConfig::kEnsemble;
  // Labelled texts, only to fit the combination; the classes come from the members.
  d.examples = {.tensors = false, .labels_required = true, .classes_required = false,
                .train_examples_required = false};
  // An instance only waits for the members, which batch on their own instances: several let
  // requests overlap instead of queueing behind one that waits.
  d.serving = {.prefers_gpu = false, .max_batch_size = 256, .max_queue_delay_us = 0, .cpu_instances = 4};
  d.load = &LoadWithoutMembers;
  d.dependencies = &Members;
  d.load_with_dependencies = &EnsembleModel::Load;
  d.train = &Train;
  return d;
}

}  // namespace

const FamilyDescriptor* EnsembleFamily() {
  static const FamilyDescriptor descriptor = Describe();
  return &descriptor;
}

}  // namespace textclf::ensemble
