// What one step of a run measured: the figures every report (table, JSON, CSV, plot) and every
// gate reads. Throughput and latency count successful requests only, as ghz does: a server that
// refuses most requests at once (RESOURCE_EXHAUSTED in microseconds) would otherwise look faster
// the more it refuses. Errors have their own count, rate and latency.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/loadgen/latency_recorder.h"
#include "client/loadgen/percentiles.h"

namespace textclf::loadgen {

struct StepResult {
  std::string mode;      // "closed" (concurrency) or "open" (rate)
  std::string workload;  // "classify", "evaluate", "mix" or "health"
  std::string protocol;  // the front door: "textclf", "oip-grpc" or "oip-http"
  int concurrency = 0;   // closed loop
  double rate = 0;       // open loop: requests per second asked for
  std::string arrivals;  // open loop: "constant" or "poisson"
  int batch_size = 0;

  int64_t requests = 0;  // answered, whatever the status
  int64_t ok = 0;
  double elapsed_s = 0;
  double throughput_rps = 0;  // successful requests per second
  double texts_per_s = 0;     // texts of successful requests per second
  double answered_rps = 0;    // every answered request per second, errors included
  double error_rps = 0;       // requests answered with an error per second
  double error_rate = 0;      // fraction of requests not OK
  Distribution latency_ms;        // successful requests only
  Distribution error_latency_ms;  // requests answered with an error
  std::map<std::string, int64_t> status_counts;  // every status seen, OK included
  // The server's own split of successful Classify requests, when it reports one.
  std::optional<Distribution> server_queue_ms;
  std::optional<Distribution> server_compute_ms;

  int windows = 0;      // measurement windows run
  bool stable = false;  // the stability rule was met (always true without one)
  bool interrupted = false;
};

// Everything but the step's identity (mode, concurrency, ...) from its samples.
void SummarizeSamples(const std::vector<Sample>& samples, double elapsed_s, StepResult* result);

}  // namespace textclf::loadgen
