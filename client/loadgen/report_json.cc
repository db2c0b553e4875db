// A step as a JSON object.
#include "client/loadgen/report.h"

namespace textclf::loadgen {
namespace {

// The server's split, or nulls when the responses did not carry it.
void AddServerSplit(nlohmann::ordered_json& j, const std::string& prefix, const std::optional<Distribution>& d) {
  j[prefix + "_mean"] = d ? nlohmann::ordered_json(d->mean) : nlohmann::ordered_json(nullptr);
  j[prefix + "_p50"] = d ? nlohmann::ordered_json(d->p50) : nlohmann::ordered_json(nullptr);
  j[prefix + "_p99"] = d ? nlohmann::ordered_json(d->p99) : nlohmann::ordered_json(nullptr);
}

}  // namespace

nlohmann::ordered_json StepToJson(const StepResult& s) {
  nlohmann::ordered_json j;
  j["mode"] = s.mode;
  j["workload"] = s.workload;
  j["protocol"] = s.protocol;
  if (s.mode == "open") {
    j["rate"] = s.rate;
    j["arrivals"] = s.arrivals;
  } else {
    j["concurrency"] = s.concurrency;
  }
  j["batch_size"] = s.batch_size;
  j["requests"] = s.requests;
  j["ok"] = s.ok;
  j["elapsed_s"] = s.elapsed_s;
  j["throughput_rps"] = s.throughput_rps;
  j["texts_per_s"] = s.texts_per_s;
  j["error_rate"] = s.error_rate;
  j["answered_rps"] = s.answered_rps;
  j["error_rps"] = s.error_rps;
  j["min_ms"] = s.latency_ms.min;
  j["mean_ms"] = s.latency_ms.mean;
  j["p50_ms"] = s.latency_ms.p50;
  j["p90_ms"] = s.latency_ms.p90;
  j["p95_ms"] = s.latency_ms.p95;
  j["p99_ms"] = s.latency_ms.p99;
  j["p999_ms"] = s.latency_ms.p999;
  j["max_ms"] = s.latency_ms.max;
  j["error_p50_ms"] = s.error_latency_ms.p50;
  j["error_p99_ms"] = s.error_latency_ms.p99;
  j["status_counts"] = nlohmann::ordered_json::object();
  j["errors"] = nlohmann::ordered_json::object();
  for (const auto& [name, count] : s.status_counts) {
    j["status_counts"][name] = count;
    if (name != "OK") j["errors"][name] = count;
  }
  AddServerSplit(j, "server_queue_ms", s.server_queue_ms);
  AddServerSplit(j, "server_compute_ms", s.server_compute_ms);
  j["windows"] = s.windows;
  j["stable"] = s.stable;
  j["interrupted"] = s.interrupted;
  return j;
}

}  // namespace textclf::loadgen
