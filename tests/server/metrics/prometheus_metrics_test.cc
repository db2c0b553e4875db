// Tests of PrometheusMetrics: drives the observer hooks and reads back the scraped text.
#include "server/metrics/prometheus_metrics.h"

#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/model/names.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace textclf::server {
namespace {

// Just enough of a Model for the observer: a name, a version and classes.
class FakeModel final : public Model {
 public:
  FakeModel(const std::string& name, int64_t version) : Model(MakeManifest(name, version)) {}
  absl::Status ValidateInput(const ModelInput&) const override { return absl::OkStatus(); }
  absl::Status Run(std::span<const ModelInput> batch, const Device&, ScoreMatrix* out) const override {
    out->Resize(batch.size(), num_classes());
    return absl::OkStatus();
  }

 private:
  static v1::Manifest MakeManifest(const std::string& name, int64_t version) {
    v1::Manifest manifest;
    manifest.set_name(name);
    manifest.set_version(version);
    manifest.add_classes("ham");
    manifest.add_classes("spam");
    return manifest;
  }
};

std::string Scrape(const PrometheusMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry()->Collect());
}

// The value of one series, written as in the exposition format: name{label="value",...}.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

// Cumulative bucket counts of a histogram series by upper bound; `labels` without `le`.
std::map<double, double> Buckets(const std::string& text, const std::string& name, const std::string& labels) {
  const std::string prefix = name + "_bucket{" + labels + ",le=\"";
  std::map<double, double> buckets;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(prefix)) continue;
    const std::string rest = line.substr(prefix.size());
    const size_t quote = rest.find('"');
    const std::string le = rest.substr(0, quote);
    const double bound = le == "+Inf" ? INFINITY : std::stod(le);
    buckets[bound] = std::stod(rest.substr(rest.find(' ', quote) + 1));
  }
  return buckets;
}

// The count of the bucket whose bound is `bound`, tolerating the bound's decimal rounding in the text.
double BucketAt(const std::map<double, double>& buckets, double bound) {
  for (const auto& [le, count] : buckets) {
    if (le == bound || (std::isfinite(bound) && std::abs(le - bound) <= 1e-9 * bound)) return count;
  }
  ADD_FAILURE() << "no bucket le=" << bound;
  return -1;
}

constexpr char kSpamV1[] = R"(model="spam",version="1")";

// Every outcome of Classify, Evaluate and Feedback, refusals before the queue included, counted by
// method, model, version and code from the RPC path (OnRpcDone); every method also per method.
TEST(PrometheusMetricsTest, CallsAreCountedByMethodModelVersionAndCode) {
  PrometheusMetrics metrics;
  metrics.OnRpcDone("Classify", "spam", 1, absl::StatusCode::kOk, 0.01);
  metrics.OnRpcDone("Classify", "spam", 1, absl::StatusCode::kOk, 0.02);
  metrics.OnRpcDone("Classify", "spam", 1, absl::StatusCode::kDeadlineExceeded, 0.5);
  // Refused before the queue: a full queue names its model; a version no one loaded is unknown.
  metrics.OnRpcDone("Classify", "spam", 0, absl::StatusCode::kResourceExhausted, 0.0001);
  metrics.OnRpcDone("Classify", "", 0, absl::StatusCode::kNotFound, 0.0001);
  metrics.OnRpcDone("Evaluate", "spam", 1, absl::StatusCode::kOk, 2.0);
  metrics.OnRpcDone("ListModels", "", 0, absl::StatusCode::kOk, 0.001);

  const std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="OK",method="Classify",model="spam",version="1"})"), 2);
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="DEADLINE_EXCEEDED",method="Classify",model="spam",version="1"})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="RESOURCE_EXHAUSTED",method="Classify",model="spam",version=""})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="NOT_FOUND",method="Classify",model="",version=""})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="OK",method="Evaluate",model="spam",version="1"})"), 1);
  // Codes never returned do not show up as zero series; other methods count per method only.
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="INTERNAL",method="Classify",model="spam",version="1"})"), std::nullopt);
  EXPECT_EQ(Sample(text, R"(textclf_grpc_requests_total{code="OK",method="ListModels"})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_grpc_requests_total{code="OK",method="Classify"})"), 2);
  EXPECT_EQ(Sample(text, R"(textclf_grpc_request_duration_seconds_count{code="OK",method="Evaluate"})"), 1);
}

TEST(PrometheusMetricsTest, InferencesCountOnlyTheInputsOfSuccessfulRequests) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  metrics.OnRequestDone(model, absl::OkStatus(), 3, 0.01, 0, 0, std::vector<float>{0.9f, 0.7f, 0.8f});
  metrics.OnRequestDone(model, absl::DeadlineExceededError("late"), 7, 0.5, 0.4, 0, {});
  EXPECT_EQ(Sample(Scrape(metrics), std::string("textclf_inferences_total{") + kSpamV1 + "}"), 3);
}

TEST(PrometheusMetricsTest, RequestAndQueueDurationsAreObservedForEveryRequest) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  metrics.OnRequestDone(model, absl::OkStatus(), 1, 0.25, 0.125, 0.1, std::vector<float>{0.9f});
  metrics.OnRequestDone(model, absl::UnavailableError("down"), 1, 0.5, 0.25, 0, {});

  const std::string text = Scrape(metrics);
  const std::string labels = std::string("{") + kSpamV1 + "}";
  EXPECT_EQ(Sample(text, "textclf_request_duration_seconds_count" + labels), 2);
  EXPECT_DOUBLE_EQ(*Sample(text, "textclf_request_duration_seconds_sum" + labels), 0.75);
  EXPECT_EQ(Sample(text, "textclf_queue_duration_seconds_count" + labels), 2);
  EXPECT_DOUBLE_EQ(*Sample(text, "textclf_queue_duration_seconds_sum" + labels), 0.375);
  // Compute time is a per-batch histogram; requests add nothing to it.
  EXPECT_EQ(Sample(text, "textclf_compute_duration_seconds_count" + labels), 0);
}

TEST(PrometheusMetricsTest, DurationsLandInExponentialBucketsFrom25MicrosecondsTo13Seconds) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  for (double seconds : {10e-6, 30e-6, 1.0, 20.0}) {
    metrics.OnRequestDone(model, absl::OkStatus(), 0, seconds, 0, 0, {});
  }
  const auto buckets = Buckets(Scrape(metrics), "textclf_request_duration_seconds", kSpamV1);
  ASSERT_EQ(buckets.size(), 21u);  // 20 bounds and +Inf
  EXPECT_EQ(BucketAt(buckets, 25e-6), 1);
  EXPECT_EQ(BucketAt(buckets, 50e-6), 2);
  EXPECT_EQ(BucketAt(buckets, 0.8192), 2);
  EXPECT_EQ(BucketAt(buckets, 1.6384), 3);
  EXPECT_EQ(BucketAt(buckets, 13.1072), 3);
  EXPECT_EQ(BucketAt(buckets, INFINITY), 4);
}

TEST(PrometheusMetricsTest, BatchesRecordTheirSizeAndComputeTime) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  metrics.OnBatch(model, 3, 0.002);
  metrics.OnBatch(model, 64, 0.01);

  const std::string text = Scrape(metrics);
  const std::string labels = std::string("{") + kSpamV1 + "}";
  EXPECT_EQ(Sample(text, "textclf_batches_total" + labels), 2);
  EXPECT_EQ(Sample(text, "textclf_batch_size_count" + labels), 2);
  EXPECT_EQ(Sample(text, "textclf_batch_size_sum" + labels), 67);
  EXPECT_EQ(Sample(text, "textclf_compute_duration_seconds_count" + labels), 2);
  EXPECT_DOUBLE_EQ(*Sample(text, "textclf_compute_duration_seconds_sum" + labels), 0.012);

  const auto sizes = Buckets(text, "textclf_batch_size", kSpamV1);
  ASSERT_EQ(sizes.size(), 12u);  // 1, 2, 4, .. 1024 and +Inf
  EXPECT_EQ(BucketAt(sizes, 2), 0);
  EXPECT_EQ(BucketAt(sizes, 4), 1);
  EXPECT_EQ(BucketAt(sizes, 32), 1);
  EXPECT_EQ(BucketAt(sizes, 64), 2);
  EXPECT_EQ(BucketAt(sizes, 1024), 2);
}

TEST(PrometheusMetricsTest, PredictionConfidenceBucketsEachTopClassProbability) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  metrics.OnRequestDone(model, absl::OkStatus(), 4, 0.01, 0, 0, std::vector<float>{0.93f, 0.62f, 0.97f, 0.04f});

  const std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, std::string("textclf_prediction_confidence_count{") + kSpamV1 + "}"), 4);
  const auto buckets = Buckets(text, "textclf_prediction_confidence", kSpamV1);
  ASSERT_EQ(buckets.size(), 21u);  // 0.05, 0.10, .. 1.0 and +Inf
  EXPECT_EQ(BucketAt(buckets, 0.05), 1);
  EXPECT_EQ(BucketAt(buckets, 0.6), 1);
  EXPECT_EQ(BucketAt(buckets, 0.65), 2);
  EXPECT_EQ(BucketAt(buckets, 0.9), 2);
  EXPECT_EQ(BucketAt(buckets, 0.95), 3);
  EXPECT_EQ(BucketAt(buckets, 1.0), 4);
}

TEST(PrometheusMetricsTest, PendingRequestsFollowQueueDeltas) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  metrics.OnPending(model, +1);
  metrics.OnPending(model, +1);
  metrics.OnPending(model, +1);
  metrics.OnPending(model, -1);
  EXPECT_EQ(Sample(Scrape(metrics), std::string("textclf_pending_requests{") + kSpamV1 + "}"), 2);
}

TEST(PrometheusMetricsTest, ModelLoadedIsOneWhileServableAndGoneAfterUnload) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  const std::string labels = std::string("{") + kSpamV1 + "}";
  metrics.OnModelLoaded(model, 1.5);
  std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, "textclf_model_loaded" + labels), 1);
  EXPECT_EQ(Sample(text, "textclf_model_load_duration_seconds" + labels), 1.5);

  metrics.OnModelUnloaded(model);
  text = Scrape(metrics);
  EXPECT_EQ(Sample(text, "textclf_model_loaded" + labels), std::nullopt);
  EXPECT_EQ(Sample(text, "textclf_model_load_duration_seconds" + labels), std::nullopt);
}

// A version that no longer serves exports nothing (no stale gauge for alerts to mistake for a
// failure): its serving, outcome, feedback and evaluation series all go at unload.
TEST(PrometheusMetricsTest, UnloadRemovesEverySeriesOfTheVersion) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1), other("spam", 2);
  metrics.OnModelLoaded(model, 0.1);
  metrics.OnModelLoaded(other, 0.1);
  metrics.OnRequestDone(model, absl::OkStatus(), 1, 0.01, 0, 0, std::vector<float>{0.9f});
  metrics.OnBatch(model, 1, 0.001);
  metrics.OnRpcDone("Classify", "spam", 1, absl::StatusCode::kOk, 0.01);
  metrics.OnRpcDone("Classify", "spam", 2, absl::StatusCode::kOk, 0.01);
  metrics.OnFeedback(model, true, 1.0);
  v1::EvalMetrics eval;
  eval.set_dataset("holdout");
  eval.set_accuracy(0.9);
  metrics.OnEvaluation("spam", 1, eval);
  ASSERT_NE(Scrape(metrics).find(R"(version="1")"), std::string::npos);
  metrics.OnModelUnloaded(model);
  const std::string text = Scrape(metrics);
  EXPECT_EQ(text.find(R"(model="spam",version="1")"), std::string::npos) << text;
  EXPECT_EQ(text.find(R"(version="1")"), std::string::npos) << text;
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="OK",method="Classify",model="spam",version="2"})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_model_loaded{model="spam",version="2"})"), 1);
}

// A version nobody queried costs a handful of series, not the serving path's histograms; online
// accuracy is absent until feedback exists.
TEST(PrometheusMetricsTest, AnIdleVersionExportsFewSeriesAndNoAccuracyBeforeFeedback) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  metrics.OnModelLoaded(model, 0.1);
  std::string text = Scrape(metrics);
  size_t series = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) series += !line.empty() && line[0] != '#';
  EXPECT_LE(series, 4u) << text;
  EXPECT_EQ(text.find("textclf_online_accuracy{"), std::string::npos);
  metrics.OnFeedback(model, false, 0.0);
  EXPECT_EQ(Sample(Scrape(metrics), std::string("textclf_online_accuracy{") + kSpamV1 + "}"), 0.0);
}

TEST(PrometheusMetricsTest, ModelStateNamesOneStatePerVersion) {
  PrometheusMetrics metrics;
  metrics.SetModelState("spam", 1, "loading");
  metrics.SetModelState("spam", 1, "loaded");
  metrics.SetModelState("spam", 2, "failed");
  std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, R"(textclf_model_state{model="spam",state="loaded",version="1"})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_model_state{model="spam",state="loading",version="1"})"), std::nullopt);
  EXPECT_EQ(Sample(text, R"(textclf_model_state{model="spam",state="failed",version="2"})"), 1);
  metrics.ForgetModelState("spam", 2);
  text = Scrape(metrics);
  EXPECT_EQ(text.find(R"(version="2")"), std::string::npos);
}

TEST(PrometheusMetricsTest, TwoVersionsOfOneModelKeepSeparateSeries) {
  PrometheusMetrics metrics;
  FakeModel v1("spam", 1);
  FakeModel v2("spam", 2);
  metrics.OnModelLoaded(v1, 0.1);
  metrics.OnModelLoaded(v2, 0.2);
  metrics.OnRequestDone(v1, absl::OkStatus(), 2, 0.01, 0, 0, {});
  metrics.OnRequestDone(v2, absl::OkStatus(), 5, 0.01, 0, 0, {});
  metrics.OnRequestDone(v2, absl::OkStatus(), 1, 0.01, 0, 0, {});
  metrics.OnRpcDone("Classify", "spam", 2, absl::StatusCode::kOk, 0.01);
  metrics.OnRpcDone("Classify", "spam", 2, absl::StatusCode::kOk, 0.01);

  std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, R"(textclf_inferences_total{model="spam",version="1"})"), 2);
  EXPECT_EQ(Sample(text, R"(textclf_inferences_total{model="spam",version="2"})"), 6);
  EXPECT_EQ(Sample(text, R"(textclf_requests_total{code="OK",method="Classify",model="spam",version="2"})"), 2);
  metrics.OnModelUnloaded(v1);
  text = Scrape(metrics);
  EXPECT_EQ(Sample(text, R"(textclf_model_loaded{model="spam",version="1"})"), std::nullopt);
  EXPECT_EQ(Sample(text, R"(textclf_model_loaded{model="spam",version="2"})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_model_load_duration_seconds{model="spam",version="2"})"), 0.2);
}

TEST(PrometheusMetricsTest, EvaluationSetsAccuracyF1AucAndEcePerDataset) {
  PrometheusMetrics metrics;
  v1::EvalMetrics eval;
  eval.set_dataset("holdout");
  eval.set_accuracy(0.9);
  eval.set_macro_f1(0.85);
  eval.set_auc(0.95);
  eval.set_ece(0.03);
  metrics.OnEvaluation("spam", 3, eval);

  const std::string text = Scrape(metrics);
  const std::string labels = R"({dataset="holdout",model="spam",version="3"})";
  EXPECT_EQ(Sample(text, "textclf_model_accuracy" + labels), 0.9);
  EXPECT_EQ(Sample(text, "textclf_model_macro_f1" + labels), 0.85);
  EXPECT_EQ(Sample(text, "textclf_model_auc" + labels), 0.95);
  EXPECT_EQ(Sample(text, "textclf_model_ece" + labels), 0.03);
}

TEST(PrometheusMetricsTest, AucIsAbsentWhenTheEvaluationHasNone) {
  PrometheusMetrics metrics;
  v1::EvalMetrics eval;
  eval.set_dataset("holdout");
  eval.set_accuracy(0.7);
  metrics.OnEvaluation("topics", 1, eval);

  const std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, R"(textclf_model_accuracy{dataset="holdout",model="topics",version="1"})"), 0.7);
  EXPECT_EQ(Sample(text, R"(textclf_model_auc{dataset="holdout",model="topics",version="1"})"), std::nullopt);
}

TEST(PrometheusMetricsTest, AVersionKeepsTheSeriesOfItsMostRecentlyEvaluatedDatasets) {
  PrometheusMetrics metrics;
  auto evaluate = [&](int i) {
    v1::EvalMetrics eval;
    eval.set_dataset("set" + std::to_string(i));
    eval.set_accuracy(0.5);
    eval.set_auc(0.6);
    metrics.OnEvaluation("spam", 1, eval);
  };
  for (int i = 0; i < kMaxDatasetsPerVersion; ++i) evaluate(i);
  evaluate(0);  // evaluated again: now the most recent
  const int total = kMaxDatasetsPerVersion + 3;
  for (int i = kMaxDatasetsPerVersion; i < total; ++i) evaluate(i);
  const std::string text = Scrape(metrics);
  for (int i = 0; i < total; ++i) {
    const std::string labels = "{dataset=\"set" + std::to_string(i) + "\",model=\"spam\",version=\"1\"}";
    const bool kept = i == 0 || i >= 4;
    EXPECT_EQ(Sample(text, "textclf_model_accuracy" + labels).has_value(), kept) << i;
    EXPECT_EQ(Sample(text, "textclf_model_auc" + labels).has_value(), kept) << i;
  }
}

TEST(PrometheusMetricsTest, FeedbackCountsOutcomesAndSetsOnlineAccuracy) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  metrics.OnFeedback(model, true, 1.0);
  metrics.OnFeedback(model, true, 1.0);
  metrics.OnFeedback(model, false, 0.75);

  const std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, R"(textclf_feedback_total{model="spam",outcome="correct",version="1"})"), 2);
  EXPECT_EQ(Sample(text, R"(textclf_feedback_total{model="spam",outcome="incorrect",version="1"})"), 1);
  EXPECT_EQ(Sample(text, std::string("textclf_online_accuracy{") + kSpamV1 + "}"), 0.75);
}

TEST(PrometheusMetricsTest, JobsRunningIsKeptPerKind) {
  PrometheusMetrics metrics;
  metrics.OnJobsRunning("train", 2);
  metrics.OnJobsRunning("quantize", 1);
  metrics.OnJobsRunning("train", 1);

  const std::string text = Scrape(metrics);
  EXPECT_EQ(Sample(text, R"(textclf_jobs_running{kind="train"})"), 1);
  EXPECT_EQ(Sample(text, R"(textclf_jobs_running{kind="quantize"})"), 1);
}

TEST(PrometheusMetricsTest, ConcurrentReportsForAnUnloadedModelAreAllCounted) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        metrics.OnPending(model, +1);
        metrics.OnBatch(model, 1, 0.001);
        metrics.OnRequestDone(model, absl::OkStatus(), 1, 0.001, 0, 0.001, std::vector<float>{0.9f});
        metrics.OnPending(model, -1);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  const std::string text = Scrape(metrics);
  constexpr double kTotal = kThreads * kRequestsPerThread;
  EXPECT_EQ(Sample(text, std::string("textclf_request_duration_seconds_count{") + kSpamV1 + "}"), kTotal);
  EXPECT_EQ(Sample(text, std::string("textclf_batches_total{") + kSpamV1 + "}"), kTotal);
  EXPECT_EQ(Sample(text, std::string("textclf_inferences_total{") + kSpamV1 + "}"), kTotal);
  EXPECT_EQ(Sample(text, std::string("textclf_pending_requests{") + kSpamV1 + "}"), 0);
}

TEST(PrometheusMetricsTest, EveryMetricHasHelpAndTheRightType) {
  PrometheusMetrics metrics;
  FakeModel model("spam", 1);
  // The serializer leaves out families without series, so give every family one.
  metrics.OnModelLoaded(model, 0.1);
  metrics.OnRequestDone(model, absl::OkStatus(), 1, 0.01, 0, 0, std::vector<float>{0.9f});
  metrics.OnRpcDone("Classify", "spam", 1, absl::StatusCode::kOk, 0.01);
  metrics.OnFeedback(model, true, 1.0);
  metrics.SetModelState("spam", 1, "loaded");
  metrics.OnJobsRunning("train", 1);
  v1::EvalMetrics eval;
  eval.set_auc(0.9);
  metrics.OnEvaluation("spam", 1, eval);
  const std::string text = Scrape(metrics);
  const std::map<std::string, std::string> types = {
      {"textclf_requests_total", "counter"},
      {"textclf_inferences_total", "counter"},
      {"textclf_batches_total", "counter"},
      {"textclf_feedback_total", "counter"},
      {"textclf_request_duration_seconds", "histogram"},
      {"textclf_queue_duration_seconds", "histogram"},
      {"textclf_compute_duration_seconds", "histogram"},
      {"textclf_batch_size", "histogram"},
      {"textclf_prediction_confidence", "histogram"},
      {"textclf_pending_requests", "gauge"},
      {"textclf_model_loaded", "gauge"},
      {"textclf_model_load_duration_seconds", "gauge"},
      {"textclf_jobs_running", "gauge"},
      {"textclf_model_accuracy", "gauge"},
      {"textclf_model_macro_f1", "gauge"},
      {"textclf_model_auc", "gauge"},
      {"textclf_model_ece", "gauge"},
      {"textclf_online_accuracy", "gauge"},
      {"textclf_model_state", "gauge"},
      {"textclf_grpc_requests_total", "counter"},
      {"textclf_grpc_request_duration_seconds", "histogram"},
  };
  for (const auto& [name, type] : types) {
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find("# TYPE " + name + " " + type + "\n"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace textclf::server
