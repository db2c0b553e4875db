// The scheduler of one loaded model version: requests queue by priority, leave in batches when
// an instance is free and the batch is full or its oldest input has waited long enough, and run
// on the model's instances. It knows nothing of families: a model runs a batch on a device.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/model/model_observer.h"
#include "core/runtime/batching_policy.h"
#include "core/runtime/inference_request.h"
#include "core/runtime/runtime_observer.h"

namespace textclf::runtime {

// Made on each instance's own thread before its first batch (e.g. a CUDA stream for that
// instance); may return null.
using DeviceContextFactory = std::function<std::unique_ptr<DeviceContext>(const Device&)>;

class DynamicBatcher final : public VersionScheduler {
 public:
  DynamicBatcher(std::shared_ptr<const Model> model, BatchingPolicy policy, std::vector<Device> instances,
                 RuntimeObserver* observer, DeviceContextFactory make_context = {});
  // Stops taking requests, finishes everything queued, and joins its threads.
  ~DynamicBatcher() override;
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues a request; RESOURCE_EXHAUSTED at once when the queue is full. The request is then
  // finished through its on_done, whatever happens.
  absl::Status Enqueue(std::shared_ptr<InferenceRequest> request);
  absl::Status Score(std::span<const ModelInput> inputs, v1::Priority priority, std::function<bool()> is_cancelled,
                     ScoreMatrix* out) override;
  absl::Status Submit(std::span<const ModelInput> inputs, v1::Priority priority, ScoredFn done) override;
  // Submit, stopping early (CANCELLED) once `is_cancelled` says so; Score is this plus a wait.
  absl::Status Submit(std::span<const ModelInput> inputs, v1::Priority priority, std::function<bool()> is_cancelled,
                      ScoredFn done);

  const Model& model() const { return *model_; }
  const BatchingPolicy& policy() const { return policy_; }
  size_t instances() const { return instances_.size(); }
  size_t queued_inputs() const;

 private:
  struct Slice {
    std::shared_ptr<InferenceRequest> request;
    size_t begin = 0;
    size_t count = 0;
  };
  struct Batch {
    std::vector<Slice> slices;
    size_t size = 0;
  };

  void DispatchLoop();
  void InstanceLoop(size_t instance);
  // Under mu_: whether a batch should leave now; otherwise when to look again.
  bool ReadyLocked(Clock::time_point now, Clock::time_point* wake);
  // Under mu_: takes up to one batch's inputs from the queues; expired and cancelled requests
  // met on the way are moved to `dropped` instead.
  Batch FormBatchLocked(Clock::time_point now, std::vector<std::shared_ptr<InferenceRequest>>* dropped);
  std::deque<std::shared_ptr<InferenceRequest>>& PickQueueLocked(Clock::time_point now);
  void RunBatch(Batch& batch, const Device& device, const absl::Status& instance_status);
  absl::Status RunModel(std::span<const ModelInput> inputs, const Device& device, ScoreMatrix* out);
  // Takes a failed request out of its queue (if still there) and drops the queue's hold.
  void Unqueue(InferenceRequest& request);
  // Drops one hold; the last one finishes the request.
  void Release(InferenceRequest& request);
  void Finish(InferenceRequest& request);

  std::shared_ptr<const Model> model_;
  BatchingPolicy policy_;
  std::vector<Device> instances_;
  RuntimeObserver* observer_;
  DeviceContextFactory make_context_;

  mutable std::mutex mu_;
  std::condition_variable dispatch_cv_;   // the dispatcher waits for work or a free instance
  std::condition_variable instance_cv_;   // instances wait for a batch
  std::deque<std::shared_ptr<InferenceRequest>> interactive_, bulk_;
  size_t queued_inputs_ = 0;
  size_t idle_instances_ = 0;
  std::deque<Batch> ready_;
  bool stopping_ = false;
  bool dispatcher_done_ = false;  // every queued input is in a batch; instances may stop
  std::thread dispatcher_;
  std::vector<std::thread> instance_threads_;
};

}  // namespace textclf::runtime
