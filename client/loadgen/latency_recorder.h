// The record of one measurement window: every request's latency, status and server-side timing,
// kept whole so that percentiles are exact. Not thread-safe; MeasurementPlan guards it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace textclf::loadgen {

using Clock = std::chrono::steady_clock;

struct Sample {
  int64_t latency_ns = 0;  // from the (scheduled) send time to the answer
  grpc::StatusCode code = grpc::StatusCode::OK;
  int texts = 0;
  int64_t queue_us = -1;  // -1: the response did not carry the server's split
  int64_t compute_us = -1;
};

class LatencyRecorder {
 public:
  // A request of this window was sent (or, in an open loop, was due) at `when`.
  void Sent(Clock::time_point when);
  // One of them was answered at `when`.
  void Answered(const Sample& sample, Clock::time_point when);

  int64_t sent() const { return sent_; }
  int64_t answered() const { return static_cast<int64_t>(samples_.size()); }
  bool any_sent() const { return sent_ > 0; }
  Clock::time_point first_sent() const { return first_sent_; }
  Clock::time_point last_answered() const { return last_answered_; }
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<Sample> samples_;
  int64_t sent_ = 0;
  Clock::time_point first_sent_ = Clock::time_point::max();
  Clock::time_point last_answered_ = Clock::time_point::min();
};

}  // namespace textclf::loadgen
