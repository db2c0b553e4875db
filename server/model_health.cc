#include "server/model_health.h"

#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "server/logging/log.h"
#include "server/metrics/prometheus_metrics.h"

namespace textclf::server {
namespace {

constexpr char kService[] = "textclf.v1.Classifier";

std::string StateName(v1::ModelState state) {
  switch (state) {
    case v1::LOADING: return "loading";
    case v1::LOADED: return "loaded";
    case v1::FAILED: return "failed";
    default: return "unloaded";
  }
}

}  // namespace

ModelHealth::ModelHealth(registry::ModelManager* models, grpc::HealthCheckServiceInterface* health,
                         PrometheusMetrics* metrics, runtime::RuntimeObserver* observer, bool strict,
                         std::chrono::milliseconds interval)
    : models_(models), health_(health), metrics_(metrics), observer_(observer), strict_(strict), interval_(interval) {
  Refresh();
  thread_ = std::thread([this] { Loop(); });
}

ModelHealth::~ModelHealth() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    quit_ = true;
  }
  loop_cv_.notify_all();
  thread_.join();
}

void ModelHealth::Loop() {
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!quit_) {
    loop_cv_.wait_for(lock, interval_, [this] { return quit_; });
    if (quit_) break;
    lock.unlock();
    Refresh();
    lock.lock();
  }
}

void ModelHealth::StopServing() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  stopped_ = true;
  ready_ = false;
  health_->SetServingStatus("", false);
  health_->SetServingStatus(kService, false);
  for (const std::string& model : models_with_entries_) health_->SetServingStatus(absl::StrCat(kService, "/", model), false);
}

void ModelHealth::Refresh() {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  const std::vector<registry::ModelManager::VersionState> states = models_->States();
  std::map<std::pair<std::string, int64_t>, v1::ModelState> now;
  std::map<std::string, bool> model_serving;
  bool all_wanted_up = true;
  for (const auto& v : states) {
    const auto key = std::make_pair(v.model, v.version);
    now[key] = v.state;
    model_serving[v.model] = model_serving[v.model] || v.state == v1::LOADED;

    if (metrics_ != nullptr) metrics_->SetModelState(v.model, v.version, StateName(v.state));
    auto before = last_.find(key);
    if (before != last_.end() && before->second == v.state) continue;
    const nlohmann::json fields = {{"model", v.model}, {"version", v.version}};
    if (v.state == v1::FAILED) {
      nlohmann::json f = fields;
      f["message"] = v.message;
      logging::Error("model_load_failed", f);
    } else if (v.state == v1::LOADED) {
      logging::Info("model_loaded", fields);
      // Its recorded evaluations, so the accuracy gauges exist after a restart and on replicas
      // that only load what a training job published.
      if (observer_ != nullptr) {
        auto recorded = models_->repository().ReadMetrics(v.model, v.version);
        if (recorded.ok()) {
          for (const auto& [dataset, metrics] : recorded->by_dataset()) observer_->OnEvaluation(v.model, v.version, metrics);
        }
      }
    }
  }
  for (const auto& [key, state] : last_) {
    if (now.count(key)) continue;
    if (metrics_ != nullptr) metrics_->ForgetModelState(key.first, key.second);
    logging::Info("model_unloaded", {{"model", key.first}, {"version", key.second}});
  }
  last_ = std::move(now);
  if (stopped_) return;
  for (const auto& [model, serving] : model_serving) {
    models_with_entries_.insert(model);
    health_->SetServingStatus(absl::StrCat(kService, "/", model), serving);
  }
  for (const std::string& model : models_with_entries_) {
    if (!model_serving.count(model)) health_->SetServingStatus(absl::StrCat(kService, "/", model), false);
  }
  // Strict: every model has a loaded version. A failed new version beside a loaded older one
  // does not take the replica out of service (the model still answers; the failure alerts):
  // otherwise one bad publish would make every replica unready at once.
  for (const auto& [model, serving] : model_serving) {
    if (!serving) all_wanted_up = false;
  }
  const bool ready = !strict_ || all_wanted_up;
  if (!stopped_) ready_ = ready;
  health_->SetServingStatus("", ready);
  health_->SetServingStatus(kService, ready);
}

}  // namespace textclf::server
