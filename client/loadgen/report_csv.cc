// The steps as CSV, and writing report files.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/loadgen/report.h"

namespace textclf::loadgen {
namespace {

// The JSON keys, in column order; "errors" becomes "CODE=n;CODE=n". New columns go at the end,
// so that scripts reading columns by position keep working.
const std::vector<std::string>& Columns() {
  static const std::vector<std::string> columns = {
      "mode", "workload", "concurrency", "rate", "arrivals", "batch_size", "requests", "ok", "elapsed_s",
      "throughput_rps", "texts_per_s", "error_rate", "min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
      "p999_ms", "max_ms", "errors", "server_queue_ms_mean", "server_queue_ms_p50", "server_queue_ms_p99",
      "server_compute_ms_mean", "server_compute_ms_p50", "server_compute_ms_p99", "windows", "stable",
      "interrupted", "answered_rps", "error_rps", "error_p50_ms", "error_p99_ms"};
  return columns;
}

std::string Cell(const nlohmann::ordered_json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) {
    std::string text;
    for (const auto& [name, count] : value.items()) {
      if (!text.empty()) text += ";";
      text += name + "=" + count.dump();
    }
    return text;
  }
  return value.dump();
}

}  // namespace

std::string StepsToCsv(const std::vector<StepResult>& steps) {
  std::string out;
  for (size_t i = 0; i < Columns().size(); ++i) out += (i ? "," : "") + Columns()[i];
  out += "\n";
  for (const StepResult& step : steps) {
    const nlohmann::ordered_json j = StepToJson(step);
    for (size_t i = 0; i < Columns().size(); ++i) {
      if (i) out += ",";
      if (j.contains(Columns()[i])) out += Cell(j[Columns()[i]]);
    }
    out += "\n";
  }
  return out;
}

absl::Status WriteTextFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat(path, ": cannot write"));
  return absl::OkStatus();
}

}  // namespace textclf::loadgen
