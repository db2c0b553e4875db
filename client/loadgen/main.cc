// textclf-loadgen: measures what a running textclf sustains (closed- or open-loop load, exact
// latency percentiles, the transport ceiling) and gates a deployment on the result.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <algorithm>

#include "client/cli_common.h"
#include "client/loadgen/channel_pool.h"
#include "client/loadgen/connect_all.h"
#include "client/loadgen/gates.h"
#include "client/loadgen/load_runner.h"
#include "client/loadgen/options.h"
#include "client/loadgen/report.h"
#include "client/loadgen/senders.h"
#include "client/loadgen/stop_signal.h"
#include "client/loadgen/workload.h"
#include "client/rpc_error_hint.h"
#include "textclf/version.h"

namespace textclf::loadgen {
namespace {

constexpr int kExitGateFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;  // the shell's convention for a run ended by SIGINT

int Fail(const std::string& message) {
  std::cerr << "textclf-loadgen: " << message << "\n";
  return kExitUsage;
}

// After the run, what to do about the errors it met, once per status code: a missing token, a
// role too low, a deadline too short.
void PrintErrorHints(const std::vector<StepResult>& steps, const client::ChannelSecurity& security, double timeout_s) {
  for (int code = grpc::StatusCode::CANCELLED; code <= grpc::StatusCode::UNAUTHENTICATED; ++code) {
    const grpc::Status status(static_cast<grpc::StatusCode>(code), "");
    const std::string name = client::StatusCodeName(status.error_code());
    const bool seen = std::any_of(steps.begin(), steps.end(),
                                  [&](const StepResult& step) { return step.status_counts.count(name) > 0; });
    if (!seen) continue;
    const std::string hint = client::RpcErrorHint(status, security, timeout_s);
    if (!hint.empty()) std::cerr << "textclf-loadgen: hint: " << name << ": " << hint << "\n";
  }
}

int Run(Options& o) {
  if (!o.program_version.empty()) {
    if (!o.program_version.front().empty()) {
      return Fail("--version takes no value: it prints textclf-loadgen's version; the model version is "
                  "--model-version N");
    }
    std::cout << "textclf-loadgen " << TEXTCLF_VERSION << "\n";
    return 0;
  }
  if (std::string error = Finalize(o); !error.empty()) return Fail(error);
  absl::StatusOr<client::ChannelSecurity> security =
      client::ChannelSecurity::Load(o.security, std::getenv(client::kTokenEnvironmentVariable));
  if (!security.ok()) return Fail(std::string(security.status().message()));
  for (const std::string& target : o.targets) {
    if (security->ExposesTokenTo(target)) {
      std::cerr << "textclf-loadgen: warning: sending the token to " << target
                << " without TLS: anyone on the network path can read it (--tls-ca FILE)\n";
    }
  }
  Workload workload;
  if (!o.health) {
    absl::StatusOr<Workload> loaded =
        o.csv.empty() ? LoadTextFileWorkload(o.text_file) : LoadCsvWorkload(o.csv, o.text_column, o.label_column);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
    workload = std::move(*loaded);
  }
  ChannelPool pool(o.targets, o.connections_per_target, *security);
  if (ConnectFailure failure = ConnectAll(pool, o.targets, o.connections_per_target, *security, 5);
      !failure.message.empty()) {
    if (!failure.hint.empty()) failure.message += "\ntextclf-loadgen: hint: " + failure.hint;
    return Fail(failure.message);
  }
  std::unique_ptr<RequestSender> sender = MakeSender(o, pool, workload);
  const std::atomic<bool>& stop = InstallStopSignal();

  const std::vector<StepResult> steps = RunSweep(o, *sender, stop, [&](const StepResult& step) {
    if (o.json) {
      std::cout << StepToJson(step).dump() << std::endl;
    } else {
      std::cerr << "textclf-loadgen: " << StepName(step) << ": " << step.requests << " requests, "
                << step.throughput_rps << " ok req/s, p99 " << step.latency_ms.p99 << " ms, "
                << step.requests - step.ok << " errors" << (step.interrupted ? " (interrupted)" : "") << "\n";
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
  PrintErrorHints(steps, *security, o.timeout_s);
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
