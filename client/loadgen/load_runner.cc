// Steps: warm-up, windows, the stability rule, draining, and the summary of what was measured.
#include "client/loadgen/load_runner.h"

#include <algorithm>
#include <memory>

#include "client/loadgen/load_drivers.h"
#include "client/loadgen/measurement_plan.h"
#include "client/loadgen/stability.h"

namespace textclf::loadgen {

std::string WorkloadName(const Options& o) {
  if (o.health) return "health";
  if (o.mix.evaluate == 0) return "classify";
  return o.mix.classify == 0 ? "evaluate" : "mix";
}

StepResult RunStep(const StepSpec& step, const Options& o, RequestSender& sender, const std::atomic<bool>& stop) {
  const bool with_stability = o.stability_percent > 0;
  PlanSettings settings;
  settings.warmup_s = o.warmup_s;
  settings.window_s = o.duration_s;
  settings.window_requests = o.requests;
  settings.max_windows = with_stability ? std::max(o.max_windows, kStabilityWindows) : 1;

  const Clock::time_point start = Clock::now();
  MeasurementPlan plan(settings, start);
  std::unique_ptr<LoadDriver> driver;
  if (step.open_loop) {
    driver = std::make_unique<OpenLoopDriver>(sender, plan, ArrivalSchedule(o.arrivals, step.rate, o.seed), start);
  } else {
    driver = std::make_unique<ClosedLoopDriver>(sender, plan, step.concurrency);
  }
  driver->Start();

  StepResult result;
  std::vector<double> throughputs;
  int finished = 0;  // windows done
  for (int k = 0; k < settings.max_windows; ++k) {
    if (!plan.WaitForWindow(k, [&] { return stop.load(); })) {
      result.interrupted = true;
      break;
    }
    ++finished;
    throughputs.push_back(plan.Throughput(k));
    if (!with_stability || IsStable(throughputs, o.stability_percent)) {
      result.stable = true;
      break;
    }
  }
  const Clock::time_point end = Clock::now();
  plan.Close();
  // After Ctrl-C the requests in flight are cancelled at once; otherwise they may finish (each
  // has its deadline), so that the next step starts on an idle server.
  driver->Drain(result.interrupted ? std::chrono::milliseconds(0)
                                   : std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000) + 1000));

  // Reported: the last windows the stability rule looked at (just the one window without it),
  // plus, when interrupted, the window that was in progress.
  const int last = result.interrupted ? std::min(finished, settings.max_windows - 1) : finished - 1;
  const int first = std::max(0, (with_stability ? finished - kStabilityWindows : finished - 1));
  std::vector<Sample> samples;
  double elapsed = 0;
  for (int k = first; k <= last; ++k) {
    std::vector<Sample> window = plan.Samples(k);
    samples.insert(samples.end(), window.begin(), window.end());
    elapsed += plan.ElapsedSeconds(k, end);
  }
  SummarizeSamples(samples, elapsed, &result);
  result.windows = result.interrupted ? finished + 1 : finished;
  result.mode = step.open_loop ? "open" : "closed";
  result.workload = WorkloadName(o);
  result.protocol = o.protocol;
  result.batch_size = o.health ? 0 : o.batch_size;
  if (step.open_loop) {
    result.rate = step.rate;
    result.arrivals = o.arrivals_name;
  } else {
    result.concurrency = step.concurrency;
  }
  return result;
}

std::vector<StepResult> RunSweep(const Options& o, RequestSender& sender, const std::atomic<bool>& stop,
                                 const std::function<void(const StepResult&)>& on_step) {
  std::vector<StepSpec> steps;
  for (int c : o.concurrency) steps.push_back({false, c, 0});
  for (double r : o.rates) steps.push_back({true, 0, r});
  std::vector<StepResult> results;
  for (const StepSpec& step : steps) {
    if (stop) break;
    results.push_back(RunStep(step, o, sender, stop));
    if (on_step) on_step(results.back());
    if (results.back().interrupted) break;
  }
  return results;
}

}  // namespace textclf::loadgen
