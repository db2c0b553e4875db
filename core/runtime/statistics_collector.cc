#include "core/runtime/statistics_collector.h"

#include <algorithm>
#include <cmath>

namespace textclf::runtime {
namespace {

constexpr double kFirstBound = 25e-6;

double UpperBound(int bucket) { return kFirstBound * std::ldexp(1.0, bucket); }

}  // namespace

std::string StatusCodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  return name.empty() ? "UNKNOWN" : name;
}

void LatencyHistogram::Add(double seconds) {
  int bucket = 0;
  while (bucket < kBuckets - 1 && seconds > UpperBound(bucket)) ++bucket;
  ++counts_[bucket];
  ++count_;
  sum_ += seconds;
}

v1::LatencySummary LatencyHistogram::Summary() const {
  v1::LatencySummary s;
  s.set_count(count_);
  if (count_ == 0) return s;
  s.set_mean_ms(1e3 * sum_ / count_);
  // Linear interpolation inside the bucket holding the quantile, as Prometheus'
  // histogram_quantile does.
  auto quantile = [&](double q) {
    const double rank = q * count_;
    int64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
      if (seen + counts_[b] >= rank && counts_[b] > 0) {
        const double lower = b == 0 ? 0 : UpperBound(b - 1);
        const double fraction = (rank - seen) / counts_[b];
        return 1e3 * (lower + (UpperBound(b) - lower) * fraction);
      }
      seen += counts_[b];
    }
    return 1e3 * UpperBound(kBuckets - 1);
  };
  s.set_p50_ms(quantile(0.5));
  s.set_p90_ms(quantile(0.9));
  s.set_p99_ms(quantile(0.99));
  return s;
}

StatisticsCollector::Stats& StatisticsCollector::For(const Model& model) {
  auto [it, added] = stats_.try_emplace({model.name(), model.version()});
  Stats& s = it->second;
  if (added) {
    s.model = model.name();
    s.version = model.version();
    s.execution = model.execution();
  }
  return s;
}

void StatisticsCollector::OnPending(const Model& model, int delta) {
  std::lock_guard<std::mutex> lock(mu_);
  For(model).pending += delta;
}

void StatisticsCollector::OnBatch(const Model& model, size_t size, double compute_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  Stats& s = For(model);
  ++s.batches;
  s.batched_inputs += static_cast<int64_t>(size);
  s.compute.Add(compute_seconds);
}

void StatisticsCollector::OnRequestDone(const Model& model, const absl::Status& status, size_t inputs,
                                        double request_seconds, double queue_seconds, double,
                                        std::span<const float> top_probabilities) {
  std::lock_guard<std::mutex> lock(mu_);
  Stats& s = For(model);
  s.request.Add(request_seconds);
  if (status.ok()) {
    s.inferences += static_cast<int64_t>(inputs);
    s.queue.Add(queue_seconds);
  }
  for (float p : top_probabilities) s.confidence_sum += p;
  s.confidence_count += static_cast<int64_t>(top_probabilities.size());
}

void StatisticsCollector::OnRpcDone(std::string_view method, const std::string& model, int64_t version,
                                    absl::StatusCode code, double) {
  if (model.empty() || !CountsPerModel(method)) return;
  std::lock_guard<std::mutex> lock(mu_);
  // Calls that named no loaded version count under version 0 of their model.
  Stats& s = stats_[{model, version}];
  s.model = model;
  s.version = version;
  ++s.requests_by_code[StatusCodeName(code)];
}

void StatisticsCollector::OnModelUnloaded(const Model& model) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.erase({model.name(), model.version()});
}

void StatisticsCollector::OnFeedback(const Model& model, bool correct, double online_accuracy) {
  std::lock_guard<std::mutex> lock(mu_);
  Stats& s = For(model);
  ++(correct ? s.feedback_correct : s.feedback_incorrect);
  s.online_accuracy = online_accuracy;
}

std::vector<v1::VersionStatistics> StatisticsCollector::Snapshot(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::VersionStatistics> out;
  for (const auto& [key, s] : stats_) {
    if (!model.empty() && key.first != model) continue;
    v1::VersionStatistics& v = out.emplace_back();
    v.set_model(s.model);
    v.set_version(s.version);
    for (const auto& [code, n] : s.requests_by_code) (*v.mutable_requests_by_code())[code] = n;
    v.set_inferences(s.inferences);
    v.set_batches(s.batches);
    v.set_mean_batch_size(s.batches ? static_cast<double>(s.batched_inputs) / s.batches : 0);
    v.set_pending_requests(s.pending);
    *v.mutable_request_latency() = s.request.Summary();
    *v.mutable_queue_latency() = s.queue.Summary();
    *v.mutable_compute_latency() = s.compute.Summary();
    v.set_feedback_correct(s.feedback_correct);
    v.set_feedback_incorrect(s.feedback_incorrect);
    v.set_online_accuracy(s.online_accuracy);
    v.set_mean_confidence(s.confidence_count ? s.confidence_sum / s.confidence_count : 0);
    v.set_execution(s.execution);
  }
  return out;
}

}  // namespace textclf::runtime
