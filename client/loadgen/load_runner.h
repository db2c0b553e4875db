// Runs the steps of a load test: for each concurrency (closed loop) or rate (open loop), a
// warm-up, then measurement windows until the step is measured (or stable, or interrupted).
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "client/loadgen/options.h"
#include "client/loadgen/request_sender.h"
#include "client/loadgen/step_result.h"

namespace textclf::loadgen {

struct StepSpec {
  bool open_loop = false;
  int concurrency = 1;
  double rate = 0;
};

// One step. `stop` (Ctrl-C) ends it early with the results gathered so far, marked interrupted.
StepResult RunStep(const StepSpec& step, const Options& options, RequestSender& sender,
                   const std::atomic<bool>& stop);

// Every step the options ask for, in order; `on_step` sees each result as soon as it is ready.
// Stops after an interrupted step.
std::vector<StepResult> RunSweep(const Options& options, RequestSender& sender, const std::atomic<bool>& stop,
                                 const std::function<void(const StepResult&)>& on_step);

// "classify", "evaluate", "mix" or "health".
std::string WorkloadName(const Options& options);

}  // namespace textclf::loadgen
