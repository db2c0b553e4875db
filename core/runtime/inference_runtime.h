// The serving runtime: one DynamicBatcher per loaded model version, created when the registry
// loads the version and drained when it unloads it. Classify and Evaluate run through it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "core/model/family.h"
#include "core/model/model_observer.h"
#include "core/runtime/dynamic_batcher.h"
#include "core/runtime/runtime_observer.h"
#include "textclf/v1/model.pb.h"

namespace textclf {
class ThreadPool;
}

namespace textclf::runtime {

class InferenceRuntime final : public ModelObserver {
 public:
  // `families` gives each family's serving defaults; `overrides` are the server configuration's
  // per-model settings (batching, instance groups); `cuda_devices` is how many CUDA devices
  // models whose family prefers a GPU may use.
  InferenceRuntime(const FamilyTable* families, ThreadPool* cpu_pool, RuntimeObserver* observer,
                   std::map<std::string, v1::ModelConfig> overrides, int cuda_devices,
                   DeviceContextFactory make_context = {});
  ~InferenceRuntime() override;

  // The batcher serving `model`; UNAVAILABLE when the version was unloaded meanwhile.
  absl::StatusOr<std::shared_ptr<DynamicBatcher>> BatcherFor(const Model& model) const;

  // Runs one request through the model's batcher and waits for it (for synchronous callers).
  absl::Status RunAndWait(const Model& model, std::shared_ptr<InferenceRequest> request) const;

  absl::Status OnLoaded(const std::shared_ptr<const Model>& model, double load_seconds) override;
  void OnUnloaded(const std::shared_ptr<const Model>& model) override;

 private:
  const FamilyTable* families_;
  ThreadPool* cpu_pool_;
  RuntimeObserver* observer_;
  std::map<std::string, v1::ModelConfig> overrides_;
  int cuda_devices_;
  DeviceContextFactory make_context_;
  mutable std::mutex mu_;
  std::map<const Model*, std::shared_ptr<DynamicBatcher>> batchers_;
};

}  // namespace textclf::runtime
