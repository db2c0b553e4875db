// Checking every step against the gates.
#include "client/loadgen/gates.h"

#include <sstream>

namespace textclf::loadgen {

std::string StepName(const StepResult& step) {
  std::ostringstream name;
  if (step.mode == "open") {
    name << "rate " << step.rate << "/s";
  } else {
    name << "concurrency " << step.concurrency;
  }
  return name.str();
}

std::vector<std::string> GateFailures(const std::vector<StepResult>& steps, const Gates& gates) {
  std::vector<std::string> failures;
  for (const StepResult& step : steps) {
    if (gates.max_error_rate >= 0 && step.error_rate > gates.max_error_rate) {
      std::ostringstream m;
      m << StepName(step) << ": error rate " << step.error_rate << " exceeds --max-error-rate " << gates.max_error_rate;
      failures.push_back(m.str());
    }
    if (gates.max_p99_ms >= 0 && step.latency_ms.p99 > gates.max_p99_ms) {
      std::ostringstream m;
      m << StepName(step) << ": p99 " << step.latency_ms.p99 << " ms exceeds --max-p99 " << gates.max_p99_ms << " ms";
      failures.push_back(m.str());
    }
  }
  return failures;
}

}  // namespace textclf::loadgen
