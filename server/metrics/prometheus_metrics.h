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

// Every metric is documented in server/metrics/METRICS.md; keep the two in step.
class PrometheusMetrics final : public runtime::RuntimeObserver {
 public:
  PrometheusMetrics();
  ~PrometheusMetrics() override;
  PrometheusMetrics(const PrometheusMetrics&) = delete;
  PrometheusMetrics& operator=(const PrometheusMetrics&) = delete;

  // What an exposer (MetricsEndpoint) or a test serializes.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

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

 private:
  // absl::StatusCode values 0..16, the canonical gRPC codes.
  static constexpr size_t kStatusCodes = 17;

  // The handles of one model version's series, so the serving path never goes through
  // Family::Add (a lock plus a hash of the label set) per request.
  struct ModelSeries {
    std::string name;
    int64_t version = 0;
    prometheus::Labels labels;
    // Filled on first use, so codes a model never returns do not appear as zero series.
    std::array<std::atomic<prometheus::Counter*>, kStatusCodes> requests_by_code{};
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
    prometheus::Gauge* loaded = nullptr;
    prometheus::Gauge* load_duration = nullptr;
    prometheus::Gauge* online_accuracy = nullptr;

    bool Describes(const Model& model) const { return version == model.version() && name == model.name(); }
  };

  std::unique_ptr<ModelSeries> BuildSeries(const Model& model);
  // The series of `model`, built on the spot if no load was reported for it. Caller holds series_mu_ exclusively.
  ModelSeries& SeriesLocked(const Model& model);
  // Runs `update` on the series of `model` while holding series_mu_, so an unload cannot free them meanwhile.
  template <typename Update>
  void WithSeries(const Model& model, Update&& update);
  prometheus::Counter& RequestCounter(ModelSeries& series, absl::StatusCode code);

  std::shared_ptr<prometheus::Registry> registry_;

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

  std::shared_mutex series_mu_;
  std::unordered_map<const Model*, std::unique_ptr<ModelSeries>> series_;

  // The data sets with evaluation series, per model version, least recently evaluated first:
  // like metrics.json, a version keeps kMaxDatasetsPerVersion (core/model/names.h) of them, so that
  // evaluating under ever new names cannot grow /metrics without end.
  std::mutex eval_mu_;
  std::map<std::pair<std::string, int64_t>, std::deque<std::string>> eval_datasets_;
};

}  // namespace textclf::server
