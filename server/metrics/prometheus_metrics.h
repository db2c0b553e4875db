// Prometheus metrics of the serving runtime: turns RuntimeObserver reports into counters, gauges and histograms.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "absl/status/status.h"
#include "core/model/model.h"
#include "core/runtime/runtime_observer.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace textclf::server {

// Every metric is documented in README.md's Metrics section; keep the two in step.
//
// Series come and go with what they describe: a version's series appear when it loads (those of
// the serving path on its first request, so a version nobody queries costs a handful of series)
// and all of them go when it is unloaded or deleted; online accuracy appears with the first
// feedback. Labels only ever carry names the server knows (loaded models, fixed method and code
// names), never a client's unchecked string.
class PrometheusMetrics final : public runtime::RuntimeObserver {
 public:
  explicit PrometheusMetrics(std::string build_version = "");
  ~PrometheusMetrics() override;
  PrometheusMetrics(const PrometheusMetrics&) = delete;
  PrometheusMetrics& operator=(const PrometheusMetrics&) = delete;

  // What an exposer (MetricsEndpoint) or a test serializes: the registry, and the process
  // collector (process_* and textclf_build_info, read at each scrape).
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  std::shared_ptr<prometheus::Collectable> process() const { return process_; }

  // textclf_model_state{model,version,state}: the one state a version is in ("loading",
  // "loaded", "failed", "unloaded"); Forget removes the version's series (it was deleted).
  void SetModelState(const std::string& model, int64_t version, const std::string& state);
  void ForgetModelState(const std::string& model, int64_t version);

  void OnPending(const Model& model, int delta) override;
  void OnBatch(const Model& model, size_t size, double compute_seconds) override;
  void OnRequestDone(const Model& model, const absl::Status& status, size_t inputs, double request_seconds,
                     double queue_seconds, double compute_seconds,
                     std::span<const float> top_probabilities) override;
  void OnModelLoaded(const Model& model, double load_seconds) override;
  void OnModelUnloaded(const Model& model) override;
  void OnFeedback(const Model& model, bool correct, double online_accuracy) override;
  void OnEvaluation(const std::string& model, int64_t version, const v1::EvalMetrics& metrics) override;
  void OnJobsRunning(const std::string& kind, int running) override;
  void OnRpcDone(std::string_view method, const std::string& model, int64_t version, absl::StatusCode code,
                 double seconds) override;

 private:

  // The handles of one model version's series, so the serving path never goes through
  // Family::Add (a lock plus a hash of the label set) per request.
  struct ModelSeries {
    std::string name;
    int64_t version = 0;
    prometheus::Labels labels;
    prometheus::Gauge* loaded = nullptr;
    prometheus::Gauge* load_duration = nullptr;
    // The serving path's series, made by its first report (EnsureServing).
    std::once_flag serving_once;
    prometheus::Counter* inferences = nullptr;
    prometheus::Counter* batches = nullptr;
    prometheus::Counter* feedback_correct = nullptr;
    prometheus::Counter* feedback_incorrect = nullptr;
    prometheus::Histogram* request_duration = nullptr;
    prometheus::Histogram* queue_duration = nullptr;
    prometheus::Histogram* compute_duration = nullptr;
    prometheus::Histogram* batch_size = nullptr;
    prometheus::Histogram* prediction_confidence = nullptr;
    prometheus::Gauge* pending = nullptr;
    // Feedback's series, made by the first feedback (absent before: no accuracy to report).
    std::once_flag feedback_once;
    prometheus::Gauge* online_accuracy = nullptr;

    bool Describes(const Model& model) const { return version == model.version() && name == model.name(); }
  };

  std::unique_ptr<ModelSeries> BuildSeries(const Model& model);
  // The series of `model`, built on the spot if no load was reported for it. Caller holds series_mu_ exclusively.
  ModelSeries& SeriesLocked(const Model& model);
  // Runs `update` on the series of `model` while holding series_mu_, so an unload cannot free them meanwhile.
  template <typename Update>
  void WithSeries(const Model& model, Update&& update);
  void EnsureServing(ModelSeries& series);
  void EnsureFeedback(ModelSeries& series);
  // Removes every series of `series` (and of its model version: outcomes, evaluations).
  void RemoveSeries(ModelSeries& series);

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& inferences_;
  prometheus::Family<prometheus::Counter>& batches_;
  prometheus::Family<prometheus::Counter>& feedback_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Histogram>& queue_duration_;
  prometheus::Family<prometheus::Histogram>& compute_duration_;
  prometheus::Family<prometheus::Histogram>& batch_size_;
  prometheus::Family<prometheus::Histogram>& prediction_confidence_;
  prometheus::Family<prometheus::Gauge>& pending_;
  prometheus::Family<prometheus::Gauge>& model_loaded_;
  prometheus::Family<prometheus::Gauge>& model_load_duration_;
  prometheus::Family<prometheus::Gauge>& jobs_running_;
  prometheus::Family<prometheus::Gauge>& model_accuracy_;
  prometheus::Family<prometheus::Gauge>& model_macro_f1_;
  prometheus::Family<prometheus::Gauge>& model_auc_;
  prometheus::Family<prometheus::Gauge>& model_ece_;
  prometheus::Family<prometheus::Gauge>& online_accuracy_;
  prometheus::Family<prometheus::Gauge>& model_state_;
  prometheus::Family<prometheus::Counter>& grpc_requests_;
  prometheus::Family<prometheus::Histogram>& grpc_duration_;

  std::shared_mutex series_mu_;
  std::unordered_map<const Model*, std::unique_ptr<ModelSeries>> series_;

  // The data sets with evaluation series, per model version, least recently evaluated first:
  // like metrics.json, a version keeps kMaxDatasetsPerVersion (core/model/names.h) of them, so that
  // evaluating under ever new names cannot grow /metrics without end.
  std::mutex eval_mu_;
  std::map<std::pair<std::string, int64_t>, std::deque<std::string>> eval_datasets_;

  // Outcome counters by (method, model, version, code), and the per-method ones by (method,
  // code): made on first use, so codes a model never returns do not appear as zero series.
  std::mutex outcomes_mu_;
  std::map<std::tuple<std::string, std::string, int64_t, absl::StatusCode>, prometheus::Counter*> outcomes_;
  std::map<std::pair<std::string, absl::StatusCode>, std::pair<prometheus::Counter*, prometheus::Histogram*>> calls_;

  std::mutex state_mu_;
  std::map<std::pair<std::string, int64_t>, prometheus::Gauge*> states_;
};

}  // namespace textclf::server
