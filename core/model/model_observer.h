// Told when a model version starts or stops serving, so that the serving runtime can set up
// and tear down what it keeps per version (queues, instances, metrics).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "core/model/model.h"

namespace textclf {

class ModelObserver {
 public:
  virtual ~ModelObserver() = default;
  // An error fails the load: the version is marked FAILED with the message.
  virtual absl::Status OnLoaded(const std::shared_ptr<const Model>& model, double load_seconds) = 0;
  virtual void OnUnloaded(const std::shared_ptr<const Model>& model) = 0;
};

}  // namespace textclf
