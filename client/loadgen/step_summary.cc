// Turning a step's samples into its figures.
#include "client/loadgen/step_result.h"
#include "client/cli_common.h"

namespace textclf::loadgen {

void SummarizeSamples(const std::vector<Sample>& samples, double elapsed_s, StepResult* r) {
  std::vector<double> latency_ms, error_latency_ms, queue_ms, compute_ms;
  latency_ms.reserve(samples.size());
  int64_t ok_texts = 0;
  r->requests = static_cast<int64_t>(samples.size());
  r->ok = 0;
  r->status_counts.clear();
  for (const Sample& s : samples) {
    ++r->status_counts[client::StatusCodeName(s.code)];
    if (s.code != grpc::StatusCode::OK) {
      error_latency_ms.push_back(s.latency_ns / 1e6);
      continue;
    }
    latency_ms.push_back(s.latency_ns / 1e6);
    ++r->ok;
    ok_texts += s.texts;
    if (s.queue_us >= 0) queue_ms.push_back(s.queue_us / 1e3);
    if (s.compute_us >= 0) compute_ms.push_back(s.compute_us / 1e3);
  }
  r->elapsed_s = elapsed_s;
  r->throughput_rps = elapsed_s > 0 ? r->ok / elapsed_s : 0;
  r->texts_per_s = elapsed_s > 0 ? ok_texts / elapsed_s : 0;
  r->answered_rps = elapsed_s > 0 ? r->requests / elapsed_s : 0;
  r->error_rps = elapsed_s > 0 ? (r->requests - r->ok) / elapsed_s : 0;
  r->error_rate = r->requests > 0 ? static_cast<double>(r->requests - r->ok) / r->requests : 0;
  r->latency_ms = Summarize(latency_ms);
  r->error_latency_ms = Summarize(error_latency_ms);
  r->server_queue_ms.reset();
  r->server_compute_ms.reset();
  if (!queue_ms.empty()) r->server_queue_ms = Summarize(queue_ms);
  if (!compute_ms.empty()) r->server_compute_ms = Summarize(compute_ms);
}

}  // namespace textclf::loadgen
