// The outputs of a run: a table for people, one JSON object per step for programs, a CSV file
// for spreadsheets, and an SVG plot of latency percentiles against throughput.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/loadgen/step_result.h"

namespace textclf::loadgen {

// One object per step; the keys are listed in README.md, "Load testing".
nlohmann::ordered_json StepToJson(const StepResult& step);

void PrintTable(const std::vector<StepResult>& steps, std::ostream& out);

// A header line and one line per step, the same figures as the JSON.
std::string StepsToCsv(const std::vector<StepResult>& steps);

// A self-contained SVG: p50, p90 and p99 latency of successful requests (log scale) against
// their throughput, one point per step, and a table of every step's numbers beside it.
std::string LatencyThroughputSvg(const std::vector<StepResult>& steps, const std::string& title);

absl::Status WriteTextFile(const std::string& path, const std::string& content);

}  // namespace textclf::loadgen
