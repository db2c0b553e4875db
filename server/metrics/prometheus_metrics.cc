// Prometheus metrics of the serving runtime: turns RuntimeObserver reports into counters, gauges and histograms.
#include "server/metrics/prometheus_metrics.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <utility>

#include "core/model/names.h"
#include "server/metrics/process_collector.h"

namespace textclf::server {
namespace {

// 25 µs .. ~13.1 s: from a cache-hot tiny batch up to a request that waited out a long deadline.
prometheus::Histogram::BucketBoundaries DurationBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  for (int k = 0; k < 20; ++k) buckets.push_back(25e-6 * std::ldexp(1.0, k));
  return buckets;
}

// 1, 2, 4, .. 1024 inputs: batch sizes the batching policy can produce.
prometheus::Histogram::BucketBoundaries BatchSizeBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  for (int k = 0; k <= 10; ++k) buckets.push_back(std::ldexp(1.0, k));
  return buckets;
}

// 0.05 .. 1.0 in steps of 0.05; k / 20.0 rather than k * 0.05 so labels read le="0.15", not 0.15000000000000002.
prometheus::Histogram::BucketBoundaries ConfidenceBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  for (int k = 1; k <= 20; ++k) buckets.push_back(k / 20.0);
  return buckets;
}

prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& registry, const std::string& name,
                                                 const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}
prometheus::Family<prometheus::Gauge>& Gauge(prometheus::Registry& registry, const std::string& name,
                                             const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}
prometheus::Family<prometheus::Histogram>& Histogram(prometheus::Registry& registry, const std::string& name,
                                                     const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

prometheus::Labels ModelLabels(const std::string& model, int64_t version) {
  return {{"model", model}, {"version", std::to_string(version)}};
}

prometheus::Labels WithLabel(prometheus::Labels labels, const std::string& name, const std::string& value) {
  labels.emplace(name, value);
  return labels;
}

}  // namespace

PrometheusMetrics::PrometheusMetrics(std::string build_version)
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>(std::move(build_version))),
      requests_(Counter(*registry_, "textclf_requests_total",
                        "Classify, Evaluate and Feedback calls finished, by method, model, version (where known) "
                        "and gRPC status code, refusals before the queue included.")),
      inferences_(Counter(*registry_, "textclf_inferences_total",
                          "Inputs scored by requests that finished OK.")),
      batches_(Counter(*registry_, "textclf_batches_total", "Batches computed by the runtime.")),
      feedback_(Counter(*registry_, "textclf_feedback_total",
                        "Labels received for earlier predictions, by whether the prediction was correct.")),
      request_duration_(Histogram(*registry_, "textclf_request_duration_seconds",
                                  "Time from a request entering the queue to its completion, in seconds.")),
      queue_duration_(Histogram(*registry_, "textclf_queue_duration_seconds",
                                "Time a request waited in the queue before its first batch ran, in seconds.")),
      compute_duration_(Histogram(*registry_, "textclf_compute_duration_seconds",
                                  "Time the model took to compute one batch, in seconds.")),
      batch_size_(Histogram(*registry_, "textclf_batch_size", "Inputs per computed batch.")),
      prediction_confidence_(Histogram(*registry_, "textclf_prediction_confidence",
                                       "Probability of the predicted (top) class of each scored input, 0..1.")),
      pending_(Gauge(*registry_, "textclf_pending_requests", "Requests queued or running for a model version.")),
      model_loaded_(Gauge(*registry_, "textclf_model_loaded", "1 while a model version is servable, 0 after it is unloaded.")),
      model_load_duration_(Gauge(*registry_, "textclf_model_load_duration_seconds",
                                 "Time the last load of a model version took, in seconds.")),
      jobs_running_(Gauge(*registry_, "textclf_jobs_running", "Background jobs now running, by kind.")),
      model_accuracy_(Gauge(*registry_, "textclf_model_accuracy",
                            "Accuracy (fraction correct, 0..1) of a model version on an evaluation data set.")),
      model_macro_f1_(Gauge(*registry_, "textclf_model_macro_f1",
                            "Macro-averaged F1 score (0..1) of a model version on an evaluation data set.")),
      model_auc_(Gauge(*registry_, "textclf_model_auc",
                       "ROC AUC (0..1) of a binary model version on an evaluation data set.")),
      model_ece_(Gauge(*registry_, "textclf_model_ece",
                       "Expected calibration error (0..1, 15 equal-width bins) of a model version on an evaluation data set.")),
      online_accuracy_(Gauge(*registry_, "textclf_online_accuracy",
                             "Accuracy (0..1) of a model version's predictions over the recent feedback window.")),
      model_state_(Gauge(*registry_, "textclf_model_state",
                         "1 for the state a model version is in: loading, loaded, failed or unloaded.")),
      grpc_requests_(Counter(*registry_, "textclf_grpc_requests_total",
                             "Calls of every method of the Classifier service, by method and gRPC status code.")),
      grpc_duration_(Histogram(*registry_, "textclf_grpc_request_duration_seconds",
                               "Time from a call's start to its status, by method and gRPC status code, in seconds.")) {}

PrometheusMetrics::~PrometheusMetrics() = default;

std::unique_ptr<PrometheusMetrics::ModelSeries> PrometheusMetrics::BuildSeries(const Model& model) {
  auto series = std::make_unique<ModelSeries>();
  series->name = model.name();
  series->version = model.version();
  series->labels = ModelLabels(model.name(), model.version());
  series->loaded = &model_loaded_.Add(series->labels);
  series->load_duration = &model_load_duration_.Add(series->labels);
  return series;
}

void PrometheusMetrics::EnsureServing(ModelSeries& series) {
  std::call_once(series.serving_once, [&] {
    const prometheus::Labels& labels = series.labels;
    series.inferences = &inferences_.Add(labels);
    series.batches = &batches_.Add(labels);
    series.request_duration = &request_duration_.Add(labels, DurationBuckets());
    series.queue_duration = &queue_duration_.Add(labels, DurationBuckets());
    series.compute_duration = &compute_duration_.Add(labels, DurationBuckets());
    series.batch_size = &batch_size_.Add(labels, BatchSizeBuckets());
    series.prediction_confidence = &prediction_confidence_.Add(labels, ConfidenceBuckets());
    series.pending = &pending_.Add(labels);
  });
}

void PrometheusMetrics::EnsureFeedback(ModelSeries& series) {
  std::call_once(series.feedback_once, [&] {
    series.feedback_correct = &feedback_.Add(WithLabel(series.labels, "outcome", "correct"));
    series.feedback_incorrect = &feedback_.Add(WithLabel(series.labels, "outcome", "incorrect"));
    series.online_accuracy = &online_accuracy_.Add(series.labels);
  });
}

void PrometheusMetrics::RemoveSeries(ModelSeries& series) {
  auto remove = [](auto& family, auto* metric) {
    if (metric != nullptr) family.Remove(metric);
  };
  remove(model_loaded_, series.loaded);
  remove(model_load_duration_, series.load_duration);
  remove(inferences_, series.inferences);
  remove(batches_, series.batches);
  remove(request_duration_, series.request_duration);
  remove(queue_duration_, series.queue_duration);
  remove(compute_duration_, series.compute_duration);
  remove(batch_size_, series.batch_size);
  remove(prediction_confidence_, series.prediction_confidence);
  remove(pending_, series.pending);
  remove(feedback_, series.feedback_correct);
  remove(feedback_, series.feedback_incorrect);
  remove(online_accuracy_, series.online_accuracy);
  {
    std::lock_guard<std::mutex> lock(outcomes_mu_);
    for (auto it = outcomes_.begin(); it != outcomes_.end();) {
      if (std::get<1>(it->first) == series.name && std::get<2>(it->first) == series.version) {
        requests_.Remove(it->second);
        it = outcomes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::lock_guard<std::mutex> lock(eval_mu_);
  auto datasets = eval_datasets_.find({series.name, series.version});
  if (datasets == eval_datasets_.end()) return;
  for (const std::string& dataset : datasets->second) {
    const prometheus::Labels labels = WithLabel(series.labels, "dataset", dataset);
    for (auto* family : {&model_accuracy_, &model_macro_f1_, &model_auc_, &model_ece_}) {
      if (family->Has(labels)) family->Remove(&family->Add(labels));
    }
  }
  eval_datasets_.erase(datasets);
}

PrometheusMetrics::ModelSeries& PrometheusMetrics::SeriesLocked(const Model& model) {
  std::unique_ptr<ModelSeries>& slot = series_[&model];
  // A different model at a recycled address gets its own labels, not the old model's.
  if (slot == nullptr || !slot->Describes(model)) slot = BuildSeries(model);
  return *slot;
}

template <typename Update>
void PrometheusMetrics::WithSeries(const Model& model, Update&& update) {
  {
    std::shared_lock lock(series_mu_);
    auto it = series_.find(&model);
    if (it != series_.end() && it->second->Describes(model)) {
      update(*it->second);
      return;
    }
  }
  std::unique_lock lock(series_mu_);
  update(SeriesLocked(model));
}

void PrometheusMetrics::OnPending(const Model& model, int delta) {
  WithSeries(model, [&](ModelSeries& series) {
    EnsureServing(series);
    series.pending->Increment(delta);
  });
}

void PrometheusMetrics::OnBatch(const Model& model, size_t size, double compute_seconds) {
  WithSeries(model, [&](ModelSeries& series) {
    EnsureServing(series);
    series.batches->Increment();
    series.batch_size->Observe(static_cast<double>(size));
    series.compute_duration->Observe(compute_seconds);
  });
}

void PrometheusMetrics::OnRequestDone(const Model& model, const absl::Status& status, size_t inputs,
                                      double request_seconds, double queue_seconds, double compute_seconds,
                                      std::span<const float> top_probabilities) {
  // Outcomes are counted by OnRpcDone, once per call; this is the batcher's view of its requests.
  WithSeries(model, [&](ModelSeries& series) {
    EnsureServing(series);
    series.request_duration->Observe(request_seconds);
    series.queue_duration->Observe(queue_seconds);
    // Compute time is measured per batch (OnBatch); a request's share would count shared batches twice.
    if (status.ok()) series.inferences->Increment(static_cast<double>(inputs));
    for (float probability : top_probabilities) series.prediction_confidence->Observe(probability);
  });
}

void PrometheusMetrics::OnModelLoaded(const Model& model, double load_seconds) {
  std::unique_lock lock(series_mu_);
  ModelSeries& series = SeriesLocked(model);
  series.loaded->Set(1);
  series.load_duration->Set(load_seconds);
}

void PrometheusMetrics::OnModelUnloaded(const Model& model) {
  std::unique_lock lock(series_mu_);
  auto it = series_.find(&model);
  if (it == series_.end() || !it->second->Describes(model)) return;
  // Gone from the registry (Prometheus keeps their history): a version that is no longer served
  // exports nothing that alerts could mistake for a failure, and costs no series.
  RemoveSeries(*it->second);
  series_.erase(it);
}

void PrometheusMetrics::OnFeedback(const Model& model, bool correct, double online_accuracy) {
  WithSeries(model, [&](ModelSeries& series) {
    EnsureFeedback(series);
    (correct ? series.feedback_correct : series.feedback_incorrect)->Increment();
    series.online_accuracy->Set(online_accuracy);
  });
}

void PrometheusMetrics::OnEvaluation(const std::string& model, int64_t version, const v1::EvalMetrics& metrics) {
  // Rare (one per evaluation), so Family::Add's lock and hash do not matter here.
  std::lock_guard<std::mutex> lock(eval_mu_);
  std::deque<std::string>& datasets = eval_datasets_[{model, version}];
  if (auto it = std::find(datasets.begin(), datasets.end(), metrics.dataset()); it != datasets.end()) datasets.erase(it);
  datasets.push_back(metrics.dataset());
  while (datasets.size() > static_cast<size_t>(kMaxDatasetsPerVersion)) {
    const prometheus::Labels old = WithLabel(ModelLabels(model, version), "dataset", datasets.front());
    for (auto* family : {&model_accuracy_, &model_macro_f1_, &model_auc_, &model_ece_}) {
      if (family->Has(old)) family->Remove(&family->Add(old));
    }
    datasets.pop_front();
  }
  const prometheus::Labels labels = WithLabel(ModelLabels(model, version), "dataset", metrics.dataset());
  model_accuracy_.Add(labels).Set(metrics.accuracy());
  model_macro_f1_.Add(labels).Set(metrics.macro_f1());
  if (metrics.has_auc()) model_auc_.Add(labels).Set(metrics.auc());
  model_ece_.Add(labels).Set(metrics.ece());
}

void PrometheusMetrics::OnJobsRunning(const std::string& kind, int running) {
  jobs_running_.Add({{"kind", kind}}).Set(running);
}

void PrometheusMetrics::OnRpcDone(std::string_view method, const std::string& model, int64_t version,
                                  absl::StatusCode code, double seconds) {
  const std::string method_name(method);
  std::lock_guard<std::mutex> lock(outcomes_mu_);
  auto& call = calls_[{method_name, code}];
  if (call.first == nullptr) {
    const prometheus::Labels labels = {{"method", method_name}, {"code", absl::StatusCodeToString(code)}};
    call = {&grpc_requests_.Add(labels), &grpc_duration_.Add(labels, DurationBuckets())};
  }
  call.first->Increment();
  call.second->Observe(seconds);
  if (!runtime::CountsPerModel(method)) return;
  prometheus::Counter*& outcome = outcomes_[{method_name, model, version, code}];
  if (outcome == nullptr) {
    outcome = &requests_.Add({{"method", method_name},
                              {"model", model},
                              {"version", version > 0 ? std::to_string(version) : ""},
                              {"code", absl::StatusCodeToString(code)}});
  }
  outcome->Increment();
}

void PrometheusMetrics::SetModelState(const std::string& model, int64_t version, const std::string& state) {
  std::lock_guard<std::mutex> lock(state_mu_);
  prometheus::Gauge*& gauge = states_[{model, version}];
  const prometheus::Labels labels = WithLabel(ModelLabels(model, version), "state", state);
  if (gauge != nullptr && !model_state_.Has(labels)) {
    model_state_.Remove(gauge);  // the version's previous state
    gauge = nullptr;
  }
  if (gauge == nullptr) gauge = &model_state_.Add(labels);
  gauge->Set(1);
}

void PrometheusMetrics::ForgetModelState(const std::string& model, int64_t version) {
  std::lock_guard<std::mutex> lock(state_mu_);
  auto it = states_.find({model, version});
  if (it == states_.end()) return;
  model_state_.Remove(it->second);
  states_.erase(it);
}

}  // namespace textclf::server
