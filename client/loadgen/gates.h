// Deployment gates: a run fails (exit 1) when any step's error rate or p99 latency exceeds the
// limit given, so that loadgen can stand in a CI pipeline before a rollout.
#pragma once

#include <string>
#include <vector>

#include "client/loadgen/step_result.h"

namespace textclf::loadgen {

struct Gates {
  double max_error_rate = -1;  // < 0: not checked
  double max_p99_ms = -1;
};

// One message per step and limit exceeded; empty when every step passes.
std::vector<std::string> GateFailures(const std::vector<StepResult>& steps, const Gates& gates);

// "concurrency 8" or "rate 200/s": how messages name a step.
std::string StepName(const StepResult& step);

}  // namespace textclf::loadgen
