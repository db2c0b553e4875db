// The serving runtime: one DynamicBatcher per loaded model version, made when the registry loads
// the version and kept in the registry's slot beside the model (so a request finds both in one
// lookup); it drains when the version unloads and its last request is done. Classify enqueues
// here; synchronous callers (Evaluate, Feedback, evaluation after training) use
// LoadedVersion::Score.
#pragma once

#include <map>
#include <memory>
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

  // Queues one request on the version's batcher; it is then finished through its on_done.
  absl::Status Enqueue(const LoadedVersion& version, std::shared_ptr<InferenceRequest> request) const;

  absl::StatusOr<std::shared_ptr<VersionScheduler>> OnLoaded(const std::shared_ptr<const Model>& model,
                                                             double load_seconds) override;
  void OnUnloaded(const std::shared_ptr<const Model>& model) override;

 private:
  const FamilyTable* families_;
  ThreadPool* cpu_pool_;
  RuntimeObserver* observer_;
  std::map<std::string, v1::ModelConfig> overrides_;
  int cuda_devices_;
  DeviceContextFactory make_context_;
};

}  // namespace textclf::runtime
