// The runtime's reports that belong in the log: the batches that served traced requests (at
// debug level, with their trace ids) and the jobs that start and stop.
#pragma once

#include "core/runtime/runtime_observer.h"

namespace textclf::server {

class LogObserver final : public runtime::RuntimeObserver {
 public:
  void OnBatchTraced(const Model& model, size_t size, double compute_seconds,
                     std::span<const std::string> trace_ids) override;
  void OnJobsRunning(const std::string& kind, int running) override;
};

}  // namespace textclf::server
