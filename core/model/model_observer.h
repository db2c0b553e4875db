// Told when a model version starts or stops serving, so that the serving runtime can set up
// and tear down what it keeps per version (queues, instances, metrics).
#pragma once

#include <functional>
#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "core/model/model.h"

namespace textclf {

// What a serving runtime keeps for one loaded version (its queues and instances). The registry
// stores it in the version's slot without knowing what is inside, so that one lookup finds the
// model and what runs it, and both leave together when the version unloads.
class VersionScheduler {
 public:
  virtual ~VersionScheduler() = default;
  // Scores `inputs` through the version's queue at `priority` and waits for them: how jobs and
  // synchronous calls (Evaluate, Feedback, evaluation after training) share the instances, the
  // batching and the metrics of Classify. The inputs must outlive the call.
  virtual absl::Status Score(std::span<const ModelInput> inputs, v1::Priority priority,
                             std::function<bool()> is_cancelled, ScoreMatrix* out) = 0;
  // Queues `inputs` and returns at once; `done` is called once, on a runtime thread, with the
  // status and (when OK) the scores. How an ensemble fans one batch out to all its members at
  // the same time. The inputs must outlive `done`. An error returned here (a full queue, a version
  // being unloaded) means `done` is never called.
  using ScoredFn = std::function<void(const absl::Status& status, ScoreMatrix& scores)>;
  virtual absl::Status Submit(std::span<const ModelInput> inputs, v1::Priority priority, ScoredFn done) = 0;
};

// Inputs per request when a job (evaluation after training, an ensemble's calibration) sends
// a whole split through a version's queue as BULK work: small enough that interactive requests
// never wait long behind one.
inline constexpr size_t kBulkRequestInputs = 256;

// A loaded version as a request finds it. Holding it keeps the model and its scheduler alive
// (queued requests finish) even if the version is unloaded meanwhile.
struct LoadedVersion {
  std::shared_ptr<const Model> model;
  std::shared_ptr<VersionScheduler> scheduler;  // null when no runtime observes the registry

  // Through the scheduler; without one (offline tools, tests of the registry alone) the model
  // runs on `fallback` on the calling thread.
  absl::Status Score(std::span<const ModelInput> inputs, v1::Priority priority, std::function<bool()> is_cancelled,
                     ScoreMatrix* out, const Device& fallback = Device{}) const {
    if (scheduler != nullptr) return scheduler->Score(inputs, priority, std::move(is_cancelled), out);
    return model->Run(inputs, fallback, out);
  }
  // Submit through the scheduler; without one the model runs at once on the calling thread.
  absl::Status Submit(std::span<const ModelInput> inputs, v1::Priority priority, VersionScheduler::ScoredFn done,
                      const Device& fallback = Device{}) const {
    if (scheduler != nullptr) return scheduler->Submit(inputs, priority, std::move(done));
    ScoreMatrix out;
    absl::Status status = model->Run(inputs, fallback, &out);
    done(status, out);
    return absl::OkStatus();
  }
};

class ModelObserver {
 public:
  virtual ~ModelObserver() = default;
  // Returns the version's scheduler (may be null). An error fails the load: the version is marked
  // FAILED with the message.
  virtual absl::StatusOr<std::shared_ptr<VersionScheduler>> OnLoaded(const std::shared_ptr<const Model>& model,
                                                                     double load_seconds) = 0;
  virtual void OnUnloaded(const std::shared_ptr<const Model>& model) = 0;
};

}  // namespace textclf
