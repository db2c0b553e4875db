// Told when a model version starts or stops serving, so that the serving runtime can set up
// and tear down what it keeps per version (queues, instances, metrics).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "core/model/model.h"

namespace textclf {

// What a serving runtime keeps for one loaded version (its queues and instances). The registry
// stores it in the version's slot without knowing what is inside, so that one lookup finds the
// model and what runs it, and both leave together when the version unloads.
class VersionScheduler {
 public:
  virtual ~VersionScheduler() = default;
};

// A loaded version as a request finds it. Holding it keeps the model and its scheduler alive
// (queued requests finish) even if the version is unloaded meanwhile.
struct LoadedVersion {
  std::shared_ptr<const Model> model;
  std::shared_ptr<VersionScheduler> scheduler;  // null when no runtime observes the registry
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
