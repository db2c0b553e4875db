// The human-readable table: one row per step, latencies in milliseconds.
#include "client/loadgen/report.h"
#include "client/loadgen/gates.h"
#include "client/table.h"

namespace textclf::loadgen {
namespace {

using client::Fixed;

std::string Errors(const StepResult& s) {
  std::string text;
  for (const auto& [name, count] : s.status_counts) {
    if (name == "OK") continue;
    if (!text.empty()) text += " ";
    text += name + "=" + std::to_string(count);
  }
  return text.empty() ? "-" : text;
}

// "mean/p50/p99" of the server's split, or "-" when the server does not report it.
std::string Split(const std::optional<Distribution>& d) {
  if (!d) return "-";
  return Fixed(d->mean, 2) + "/" + Fixed(d->p50, 2) + "/" + Fixed(d->p99, 2);
}

}  // namespace

void PrintTable(const std::vector<StepResult>& steps, std::ostream& out) {
  client::Table table({"step", "requests", "req/s", "texts/s", "min", "p50", "p90", "p95", "p99", "p99.9", "max",
                       "errors", "srv queue mean/p50/p99", "srv compute mean/p50/p99"});
  for (const StepResult& s : steps) {
    const Distribution& l = s.latency_ms;
    std::string name = StepName(s);
    if (s.interrupted) name += " (interrupted)";
    if (!s.stable && !s.interrupted) name += " (unstable)";
    table.AddRow({name, std::to_string(s.requests), Fixed(s.throughput_rps, 1), Fixed(s.texts_per_s, 1),
                  Fixed(l.min, 3), Fixed(l.p50, 3), Fixed(l.p90, 3), Fixed(l.p95, 3), Fixed(l.p99, 3),
                  Fixed(l.p999, 3), Fixed(l.max, 3), Errors(s), Split(s.server_queue_ms),
                  Split(s.server_compute_ms)});
  }
  table.Print(out);
  out << "latencies in ms, from the " << (steps.empty() || steps[0].mode == "closed" ? "send" : "scheduled send")
      << " time to the answer; srv: the server's own queue/compute split\n";
}

}  // namespace textclf::loadgen
