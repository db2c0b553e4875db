// Per model version counts and latency summaries, kept in process for the ModelStatistics RPC
// (the same figures Prometheus gets, for clients without it).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/runtime/runtime_observer.h"
#include "textclf/v1/model.pb.h"
#include "textclf/v1/statistics.pb.h"

namespace textclf::runtime {

// Latencies in fixed exponential buckets (25 us x 2^k): constant memory, quantiles within a
// bucket's width.
class LatencyHistogram {
 public:
  void Add(double seconds);
  v1::LatencySummary Summary() const;

 private:
  static constexpr int kBuckets = 24;
  int64_t counts_[kBuckets] = {};
  int64_t count_ = 0;
  double sum_ = 0;
};

class StatisticsCollector final : public RuntimeObserver {
 public:
  void OnPending(const Model& model, int delta) override;
  void OnBatch(const Model& model, size_t size, double compute_seconds) override;
  void OnRequestDone(const Model& model, const absl::Status& status, size_t inputs, double request_seconds,
                     double queue_seconds, double compute_seconds, std::span<const float> top_probabilities) override;
  void OnFeedback(const Model& model, bool correct, double online_accuracy) override;
  void OnRpcDone(std::string_view method, const std::string& model, int64_t version, absl::StatusCode code,
                 double seconds) override;
  // A version's figures go with it.
  void OnModelUnloaded(const Model& model) override;

  // Every version seen, or those of one model.
  std::vector<v1::VersionStatistics> Snapshot(const std::string& model) const;

 private:
  struct Stats {
    std::string model;
    int64_t version = 0;
    std::string execution;
    std::map<std::string, int64_t> requests_by_code;
    int64_t inferences = 0, batches = 0, batched_inputs = 0, pending = 0;
    LatencyHistogram request, queue, compute;
    int64_t feedback_correct = 0, feedback_incorrect = 0;
    double online_accuracy = 0;
    double confidence_sum = 0;
    int64_t confidence_count = 0;
  };
  Stats& For(const Model& model);  // under mu_

  mutable std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, Stats> stats_;
};

// "OK", "NOT_FOUND", ...: the canonical name of a status code.
std::string StatusCodeName(absl::StatusCode code);

}  // namespace textclf::runtime
