#include "server/logging/log_observer.h"

#include "server/logging/log.h"

namespace textclf::server {

void LogObserver::OnBatchTraced(const Model& model, size_t size, double compute_seconds,
                                std::span<const std::string> trace_ids) {
  if (!logging::Enabled(logging::Level::kDebug)) return;
  logging::Log(logging::Level::kDebug, "batch",
               {{"model", model.name()},
                {"version", model.version()},
                {"size", size},
                {"compute_ms", compute_seconds * 1000},
                {"trace_ids", std::vector<std::string>(trace_ids.begin(), trace_ids.end())}});
}

void LogObserver::OnJobsRunning(const std::string& kind, int running) {
  logging::Log(logging::Level::kDebug, "jobs_running", {{"kind", kind}, {"running", running}});
}

}  // namespace textclf::server
