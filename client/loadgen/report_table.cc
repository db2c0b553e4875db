// The human-readable table: one row per step, latencies in milliseconds. Throughput and latency
// are those of successful requests; errors get their own columns, so that a server refusing
// half its load cannot look fast.
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
  client::Table table({"step", "requests", "ok req/s", "texts/s", "min", "p50", "p90", "p95", "p99", "p99.9", "max",
                       "error %", "errors", "error p50/p99", "srv queue mean/p50/p99", "srv compute mean/p50/p99"});
  for (const StepResult& s : steps) {
    const Distribution& l = s.latency_ms;
    std::string name = StepName(s);
    if (s.interrupted) name += " (interrupted)";
    if (!s.stable && !s.interrupted) name += " (unstable)";
    // No successful request, no latency: "-" rather than zeros that read as instant answers.
    auto ms = [&](double value) { return l.count > 0 ? Fixed(value, 3) : std::string("-"); };
    table.AddRow({name, std::to_string(s.requests), Fixed(s.throughput_rps, 1), Fixed(s.texts_per_s, 1), ms(l.min),
                  ms(l.p50), ms(l.p90), ms(l.p95), ms(l.p99), ms(l.p999), ms(l.max), Fixed(100 * s.error_rate, 2),
                  Errors(s),
                  s.error_latency_ms.count > 0
                      ? Fixed(s.error_latency_ms.p50, 3) + "/" + Fixed(s.error_latency_ms.p99, 3)
                      : "-",
                  Split(s.server_queue_ms), Split(s.server_compute_ms)});
  }
  table.Print(out);
  out << "ok req/s, texts/s and latencies count successful requests only; errors are counted apart\n"
      << "latencies in ms, from the " << (steps.empty() || steps[0].mode == "closed" ? "send" : "scheduled send")
      << " time to the answer; srv: the server's own queue/compute split\n";
}

}  // namespace textclf::loadgen
