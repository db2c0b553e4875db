// Tickets, windows and the wait for a window to finish.
#include "client/loadgen/measurement_plan.h"

#include <algorithm>

namespace textclf::loadgen {
namespace {
Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}
}  // namespace

MeasurementPlan::MeasurementPlan(const PlanSettings& settings, Clock::time_point start)
    : settings_(settings), measure_start_(start + Seconds(settings.warmup_s)), windows_(settings.max_windows) {}

Clock::time_point MeasurementPlan::WindowEnd(int k) const {
  return measure_start_ + Seconds(settings_.window_s * (k + 1));
}

Ticket MeasurementPlan::Take(Clock::time_point when) {
  std::lock_guard lock(mu_);
  if (closed_) return {};
  if (when < measure_start_) return {true, -1};
  int k;
  if (settings_.window_requests > 0) {
    k = static_cast<int>(counted_ / settings_.window_requests);
    if (k >= settings_.max_windows) return {};
    ++counted_;
  } else {
    const double since = std::chrono::duration<double>(when - measure_start_).count();
    k = static_cast<int>(since / settings_.window_s);
    if (k >= settings_.max_windows) return {};
  }
  windows_[k].Sent(when);
  return {true, k};
}

void MeasurementPlan::Answer(const Ticket& ticket, const Outcome& outcome, Clock::time_point sent) {
  const Clock::time_point now = Clock::now();
  if (ticket.window < 0) return;
  Sample sample;
  sample.latency_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent).count();
  sample.code = outcome.code;
  sample.texts = outcome.texts;
  sample.queue_us = outcome.queue_us;
  sample.compute_us = outcome.compute_us;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    windows_[ticket.window].Answered(sample, now);
  }
  answered_.notify_all();
}

void MeasurementPlan::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  answered_.notify_all();
}

bool MeasurementPlan::Done(int k, Clock::time_point now) const {
  const LatencyRecorder& w = windows_[k];
  const bool sealed = settings_.window_requests > 0 ? w.sent() >= settings_.window_requests : now >= WindowEnd(k);
  return sealed && w.answered() == w.sent();
}

bool MeasurementPlan::WaitForWindow(int k, const std::function<bool()>& give_up) {
  std::unique_lock lock(mu_);
  while (!Done(k, Clock::now())) {
    if (give_up() || closed_) return false;
    // Short waits: a timed window also ends by the clock, and give_up (Ctrl-C) is polled.
    answered_.wait_for(lock, std::chrono::milliseconds(10));
  }
  return true;
}

double MeasurementPlan::ElapsedSeconds(int k, Clock::time_point now) {
  std::lock_guard lock(mu_);
  const LatencyRecorder& w = windows_[k];
  if (settings_.window_requests > 0) {
    if (w.answered() == 0) return 0;
    return std::chrono::duration<double>(w.last_answered() - w.first_sent()).count();
  }
  const Clock::time_point begin = measure_start_ + Seconds(settings_.window_s * k);
  return std::max(0.0, std::chrono::duration<double>(std::min(now, WindowEnd(k)) - begin).count());
}

double MeasurementPlan::Throughput(int k) {
  const double elapsed = ElapsedSeconds(k, Clock::now());
  std::lock_guard lock(mu_);
  return elapsed > 0 ? windows_[k].answered() / elapsed : 0;
}

std::vector<Sample> MeasurementPlan::Samples(int k) {
  std::lock_guard lock(mu_);
  return windows_[k].samples();
}

}  // namespace textclf::loadgen
