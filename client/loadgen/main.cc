// textclf-loadgen: measures what a running textclf sustains (closed- or open-loop load, exact
// latency percentiles, the transport ceiling) and gates a deployment on the result.
#include <CLI/CLI.hpp>

#include <iostream>

#include "client/loadgen/channel_pool.h"
#include "client/loadgen/gates.h"
#include "client/loadgen/load_runner.h"
#include "client/loadgen/options.h"
#include "client/loadgen/report.h"
#include "client/loadgen/senders.h"
#include "client/loadgen/stop_signal.h"
#include "client/loadgen/workload.h"

namespace textclf::loadgen {
namespace {

constexpr int kExitGateFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;  // the shell's convention for a run ended by SIGINT

int Fail(const std::string& message) {
  std::cerr << "textclf-loadgen: " << message << "\n";
  return kExitUsage;
}

// Connects every channel before measuring, so that connection set-up never counts as latency and
// a wrong address is a clear error instead of a table full of UNAVAILABLE.
std::string ConnectAll(ChannelPool& pool, const Options& o) {
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  for (size_t i = 0; i < pool.size(); ++i) {
    if (!pool.at(i).channel->WaitForConnected(deadline)) {
      return "cannot connect to " + o.targets[i / o.connections_per_target] + " within 5 s";
    }
  }
  return "";
}

int Run(Options& o) {
  if (std::string error = Finalize(o); !error.empty()) return Fail(error);
  Workload workload;
  if (!o.health) {
    absl::StatusOr<Workload> loaded =
        o.csv.empty() ? LoadTextFileWorkload(o.text_file) : LoadCsvWorkload(o.csv, o.text_column, o.label_column);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
    workload = std::move(*loaded);
  }
  ChannelPool pool(o.targets, o.connections_per_target);
  if (std::string error = ConnectAll(pool, o); !error.empty()) return Fail(error);
  std::unique_ptr<RequestSender> sender = MakeSender(o, pool, workload);
  const std::atomic<bool>& stop = InstallStopSignal();

  const std::vector<StepResult> steps = RunSweep(o, *sender, stop, [&](const StepResult& step) {
    if (o.json) {
      std::cout << StepToJson(step).dump() << std::endl;
    } else {
      std::cerr << "textclf-loadgen: " << StepName(step) << ": " << step.requests << " requests, "
                << step.throughput_rps << " req/s, p99 " << step.latency_ms.p99 << " ms"
                << (step.interrupted ? " (interrupted)" : "") << "\n";
    }
  });
  if (!o.json) PrintTable(steps, std::cout);

  int exit_code = 0;
  if (!o.csv_out.empty()) {
    if (absl::Status s = WriteTextFile(o.csv_out, StepsToCsv(steps)); !s.ok()) exit_code = Fail(std::string(s.message()));
  }
  if (!o.plot.empty()) {
    std::string title = "textclf " + WorkloadName(o) + (o.health ? "" : ", batch " + std::to_string(o.batch_size)) +
                        (o.open_loop() ? ", open loop" : ", closed loop") + ": latency vs throughput";
    if (absl::Status s = WriteTextFile(o.plot, LatencyThroughputSvg(steps, title)); !s.ok()) {
      exit_code = Fail(std::string(s.message()));
    }
  }
  if (exit_code != 0) return exit_code;
  if (!steps.empty() && steps.back().interrupted) return kExitInterrupted;
  const std::vector<std::string> failures = GateFailures(steps, Gates{o.max_error_rate, o.max_p99_ms});
  for (const std::string& failure : failures) std::cerr << "textclf-loadgen: gate failed: " << failure << "\n";
  return failures.empty() ? 0 : kExitGateFailed;
}

}  // namespace
}  // namespace textclf::loadgen

int main(int argc, char** argv) {
  CLI::App app{"textclf-loadgen: load-test a textclf server (closed or open loop) and report latency percentiles"};
  textclf::loadgen::Options options;
  textclf::loadgen::AddFlags(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : textclf::loadgen::kExitUsage;
  }
  return textclf::loadgen::Run(options);
}
