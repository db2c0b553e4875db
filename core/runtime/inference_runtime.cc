#include "core/runtime/inference_runtime.h"

#include <future>

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

InferenceRuntime::~InferenceRuntime() {
  std::map<const Model*, std::shared_ptr<DynamicBatcher>> batchers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batchers.swap(batchers_);
  }
  batchers.clear();  // each drains its queue
}

absl::Status InferenceRuntime::OnLoaded(const std::shared_ptr<const Model>& model, double load_seconds) {
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    batchers_[model.get()] = std::move(batcher);
  }
  if (observer_ != nullptr) observer_->OnModelLoaded(*model, load_seconds);
  return absl::OkStatus();
}

void InferenceRuntime::OnUnloaded(const std::shared_ptr<const Model>& model) {
  std::shared_ptr<DynamicBatcher> batcher;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = batchers_.find(model.get());
    if (it == batchers_.end()) return;
    batcher = std::move(it->second);
    batchers_.erase(it);
  }
  if (observer_ != nullptr) observer_->OnModelUnloaded(*model);
  // Requests already queued finish; the last holder of the batcher drains and joins it.
  batcher.reset();
}

absl::StatusOr<std::shared_ptr<DynamicBatcher>> InferenceRuntime::BatcherFor(const Model& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = batchers_.find(&model);
  if (it == batchers_.end()) {
    return absl::UnavailableError(absl::StrCat("version ", model.version(), " of model \"", model.name(),
                                               "\" was unloaded; retry"));
  }
  return it->second;
}

absl::Status InferenceRuntime::RunAndWait(const Model& model, std::shared_ptr<InferenceRequest> request) const {
  ASSIGN_OR_RETURN(std::shared_ptr<DynamicBatcher> batcher, BatcherFor(model));
  std::promise<void> done;
  request->on_done = [&done](InferenceRequest&) { done.set_value(); };
  RETURN_IF_ERROR(batcher->Enqueue(request));
  done.get_future().wait();
  return request->status;
}

}  // namespace textclf::runtime
