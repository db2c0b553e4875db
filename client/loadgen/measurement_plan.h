// When a step measures: a warm-up whose requests are sent but not recorded, then windows of a
// fixed duration or a fixed number of requests. Every request takes a ticket when it is sent
// (or, in an open loop, when it was due), which names the window it counts in; a window is done
// once it can take no more tickets and every request it holds has been answered, so requests
// that straddle a window's end are counted with their whole latency rather than dropped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "client/loadgen/latency_recorder.h"
#include "client/loadgen/request_sender.h"

namespace textclf::loadgen {

struct PlanSettings {
  double warmup_s = 0;
  double window_s = 5;          // used when window_requests is 0
  int64_t window_requests = 0;  // > 0: windows of this many requests
  int max_windows = 1;
};

struct Ticket {
  bool send = false;  // false: the plan is over (or closed), send nothing more
  int window = -1;    // -1: warm-up, not recorded
};

class MeasurementPlan {
 public:
  MeasurementPlan(const PlanSettings& settings, Clock::time_point start);

  // The ticket of a request sent (or due) at `when`; thread-safe.
  Ticket Take(Clock::time_point when);
  // Records the answer of a request sent (or due) at `sent`; answers after Close are dropped,
  // so that requests cancelled on Ctrl-C do not count as errors.
  void Answer(const Ticket& ticket, const Outcome& outcome, Clock::time_point sent);
  // Hands out no more tickets.
  void Close();

  // Blocks until window `k` is done; false if `give_up` turned true first.
  bool WaitForWindow(int k, const std::function<bool()>& give_up);
  // A window's throughput in requests per second (0 before anything was answered).
  double Throughput(int k);
  // Seconds the window covers: its nominal duration for timed windows (cut short at `now` if the
  // run was interrupted), first send to last answer for windows counted in requests.
  double ElapsedSeconds(int k, Clock::time_point now);
  // The samples of window k (a copy, taken under the lock).
  std::vector<Sample> Samples(int k);
  int max_windows() const { return settings_.max_windows; }

 private:
  bool Done(int k, Clock::time_point now) const;  // with mu_ held
  Clock::time_point WindowEnd(int k) const;        // timed windows only

  const PlanSettings settings_;
  const Clock::time_point measure_start_;
  std::mutex mu_;
  std::condition_variable answered_;
  std::vector<LatencyRecorder> windows_;
  int64_t counted_ = 0;  // tickets handed to windows counted in requests
  bool closed_ = false;
};

}  // namespace textclf::loadgen
