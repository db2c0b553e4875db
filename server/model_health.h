// Keeps what the outside sees of the models in step with what is loaded: the per-model health
// entries (grpc.health.v1 service "textclf.v1.Classifier/<model>": SERVING while a version of
// the model is loaded), the overall entries ("" and "textclf.v1.Classifier"), the
// textclf_model_state gauge, the evaluation gauges of versions that load (from their recorded
// metrics.json, so a restart or a replica that polls shows them), and a log line for each change
// (loaded, failed with the reason, unloaded). It reads the model manager's in-memory states once
// a second, and at once when asked (after a load or a delete).
//
// Strict readiness (after Triton's): the overall entries say NOT_SERVING while any model has no
// loaded version (its versions are loading or failed), so a replica whose models are not all up
// takes no traffic. A failed new version beside a loaded older one keeps the replica ready: the
// model still answers, textclf_model_state{state="failed"} alerts, and one bad publish cannot
// take every replica out at once. Without it they say SERVING whenever the process serves.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/registry/model_manager.h"
#include "core/runtime/runtime_observer.h"

namespace grpc {
class HealthCheckServiceInterface;
}

namespace textclf::server {

class PrometheusMetrics;

class ModelHealth {
 public:
  ModelHealth(registry::ModelManager* models, grpc::HealthCheckServiceInterface* health, PrometheusMetrics* metrics,
              runtime::RuntimeObserver* observer, bool strict, std::chrono::milliseconds interval);
  ~ModelHealth();
  ModelHealth(const ModelHealth&) = delete;
  ModelHealth& operator=(const ModelHealth&) = delete;

  void Refresh();
  // From now on every entry says NOT_SERVING (the server drains).
  void StopServing();
  // What the overall entries ("" and textclf.v1.Classifier) say: the server takes traffic.
  bool ready() const { return ready_; }

 private:
  void Loop();

  registry::ModelManager* models_;
  grpc::HealthCheckServiceInterface* health_;
  PrometheusMetrics* metrics_;
  runtime::RuntimeObserver* observer_;
  const bool strict_;
  const std::chrono::milliseconds interval_;

  std::mutex refresh_mu_;  // one refresh at a time
  std::map<std::pair<std::string, int64_t>, v1::ModelState> last_;
  std::set<std::string> models_with_entries_;
  bool stopped_ = false;
  std::atomic<bool> ready_{false};

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace textclf::server
