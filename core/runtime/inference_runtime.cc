#include "core/runtime/inference_runtime.h"

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace textclf::runtime {

InferenceRuntime::InferenceRuntime(const FamilyTable* families, ThreadPool* cpu_pool, RuntimeObserver* observer,
                                   std::map<std::string, v1::ModelConfig> overrides, int cuda_devices,
                                   DeviceContextFactory make_context)
    : families_(families),
      cpu_pool_(cpu_pool),
      observer_(observer),
      overrides_(std::move(overrides)),
      cuda_devices_(cuda_devices),
      make_context_(std::move(make_context)) {}

InferenceRuntime::~InferenceRuntime() = default;

absl::StatusOr<std::shared_ptr<VersionScheduler>> InferenceRuntime::OnLoaded(const std::shared_ptr<const Model>& model,
                                                                             double load_seconds) {
  const v1::ModelConfig& stored = model->manifest().config();
  v1::ModelConfig override_config;
  if (auto it = overrides_.find(model->name()); it != overrides_.end()) override_config = it->second;
  // A model reaches the runtime only through the registry, which loaded it with its family.
  ASSIGN_OR_RETURN(const FamilyDescriptor* family, families_->Find(model->manifest().family()));
  ASSIGN_OR_RETURN(BatchingPolicy policy,
                   ResolveBatchingPolicy(family->serving, stored.batching(), override_config.batching()));
  std::vector<v1::InstanceGroup> stored_groups(stored.instance_groups().begin(), stored.instance_groups().end());
  std::vector<v1::InstanceGroup> override_groups(override_config.instance_groups().begin(),
                                                 override_config.instance_groups().end());
  std::vector<Device> instances =
      ResolveInstances(family->serving, stored_groups, override_groups, cpu_pool_, cuda_devices_);
  auto batcher =
      std::make_shared<DynamicBatcher>(model, std::move(policy), std::move(instances), observer_, make_context_);
  if (observer_ != nullptr) observer_->OnModelLoaded(*model, load_seconds);
  return batcher;
}

void InferenceRuntime::OnUnloaded(const std::shared_ptr<const Model>& model) {
  // The registry drops the batcher after this; requests already queued finish first.
  if (observer_ != nullptr) observer_->OnModelUnloaded(*model);
}

absl::Status InferenceRuntime::Enqueue(const LoadedVersion& version, std::shared_ptr<InferenceRequest> request) const {
  // Every scheduler in a registry this runtime observes is one of its batchers.
  auto* batcher = dynamic_cast<DynamicBatcher*>(version.scheduler.get());
  if (batcher == nullptr) {
    return absl::InternalError(absl::StrCat("version ", version.model->version(), " of model \"",
                                            version.model->name(), "\" has no batcher: no runtime serves this registry"));
  }
  return batcher->Enqueue(std::move(request));
}

}  // namespace textclf::runtime
