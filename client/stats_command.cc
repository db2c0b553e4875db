// textclf stats: the server's own per-version figures (ModelStatistics) as a table or JSON:
// requests by status, batching, latency split into queue and compute, and online accuracy from
// feedback, for operators without Prometheus at hand.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "client/cli_common.h"
#include "client/commands.h"
#include "client/table.h"

namespace textclf::client {
namespace {

struct StatsOptions {
  ConnectionOptions connection;
  std::string model;
  bool json = false;
};

// "p50/p90/p99" in milliseconds, or "-" before the first request.
std::string Latency(const v1::LatencySummary& l, bool with_p90) {
  if (l.count() == 0) return "-";
  return Fixed(l.p50_ms(), 2) + (with_p90 ? "/" + Fixed(l.p90_ms(), 2) : "") + "/" + Fixed(l.p99_ms(), 2);
}

void PrintStatistics(const v1::ModelStatisticsResponse& response) {
  if (response.versions().empty()) {
    std::cout << "no statistics yet: no loaded model version has served a request\n";
    return;
  }
  Table table({"model", "version", "requests", "errors", "inferences", "batches", "mean batch", "pending",
               "latency p50/p90/p99 ms", "queue p50/p99", "compute p50/p99", "feedback ok/wrong", "online acc",
               "mean conf"});
  for (const v1::VersionStatistics& v : response.versions()) {
    int64_t requests = 0;
    std::string errors;
    for (const auto& [code, count] : v.requests_by_code()) {
      requests += count;
      if (code == "OK") continue;
      errors += (errors.empty() ? "" : " ") + code + "=" + std::to_string(count);
    }
    const int64_t feedback = v.feedback_correct() + v.feedback_incorrect();
    table.AddRow({v.model(), std::to_string(v.version()), std::to_string(requests), errors.empty() ? "-" : errors,
                  std::to_string(v.inferences()), std::to_string(v.batches()), Fixed(v.mean_batch_size(), 1),
                  std::to_string(v.pending_requests()), Latency(v.request_latency(), true),
                  Latency(v.queue_latency(), false), Latency(v.compute_latency(), false),
                  std::to_string(v.feedback_correct()) + "/" + std::to_string(v.feedback_incorrect()),
                  feedback > 0 ? Fixed(v.online_accuracy(), 4) : "-",
                  v.inferences() > 0 ? Fixed(v.mean_confidence(), 3) : "-"});
  }
  table.Print(std::cout);
  std::cout << "latency: per request, queue entry to answer; queue: waiting for a batch; compute: per batch\n";
}

int RunStats(const StatsOptions& o) {
  std::optional<Connection> c = Connect(o.connection);
  if (!c) return kExitInputError;
  grpc::ClientContext context;
  c->SetDeadline(&context);
  v1::ModelStatisticsRequest request;
  request.set_model(o.model);
  v1::ModelStatisticsResponse response;
  grpc::Status status = c->stub->ModelStatistics(&context, request, &response);
  if (!status.ok()) return c->ReportError(status);
  if (o.json) {
    std::cout << ToJsonLine(response) << "\n";
  } else {
    PrintStatistics(response);
  }
  return 0;
}

}  // namespace

void AddStatsCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<StatsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "stats", "the server's per-version statistics: requests by status, batching, latency, online accuracy");
  AddConnectionFlags(cmd, &o->connection, "seconds the call may take (0: no deadline)");
  cmd->add_option("--model", o->model, "one model's versions (default: every loaded model)");
  cmd->add_flag("--json", o->json, "print the response as JSON");
  cmd->callback([o, exit_code] { *exit_code = RunStats(*o); });
}

}  // namespace textclf::client
