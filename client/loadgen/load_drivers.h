// The two ways of putting load on the server. Closed loop: a fixed number of requests in flight,
// each answer sending the next. Open loop: requests sent at scheduled times whatever the server
// does, latency counted from the scheduled time, so a stalled server cannot hide its stall by
// slowing the client down (no coordinated omission).
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "client/loadgen/arrival_schedule.h"
#include "client/loadgen/in_flight_counter.h"
#include "client/loadgen/measurement_plan.h"
#include "client/loadgen/request_sender.h"

namespace textclf::loadgen {

class LoadDriver {
 public:
  virtual ~LoadDriver() = default;
  virtual void Start() = 0;
  // Call after the plan is closed: waits up to `grace` for the requests in flight, then cancels
  // what remains and waits for their callbacks.
  virtual void Drain(std::chrono::milliseconds grace) = 0;
};

class ClosedLoopDriver : public LoadDriver {
 public:
  ClosedLoopDriver(RequestSender& sender, MeasurementPlan& plan, int concurrency)
      : sender_(sender), plan_(plan), concurrency_(concurrency) {}
  void Start() override;
  void Drain(std::chrono::milliseconds grace) override;

 private:
  void SendNext();  // one slot: sends a request, or retires when the plan hands no ticket

  RequestSender& sender_;
  MeasurementPlan& plan_;
  const int concurrency_;
  std::atomic<uint64_t> sequence_{0};
  InFlightCounter slots_;
};

class OpenLoopDriver : public LoadDriver {
 public:
  OpenLoopDriver(RequestSender& sender, MeasurementPlan& plan, ArrivalSchedule schedule, Clock::time_point start)
      : sender_(sender), plan_(plan), schedule_(schedule), start_(start) {}
  ~OpenLoopDriver() override;
  void Start() override;
  void Drain(std::chrono::milliseconds grace) override;

 private:
  void Pace();  // the pacing thread

  RequestSender& sender_;
  MeasurementPlan& plan_;
  ArrivalSchedule schedule_;
  const Clock::time_point start_;
  std::thread pacer_;
  std::atomic<bool> stopping_{false};
  InFlightCounter in_flight_;
};

}  // namespace textclf::loadgen
