// Scale-out on one machine: three textclf-server processes on loopback sharing one model
// repository, as replicas behind a headless Kubernetes service share a volume. A model trained
// through one replica reaches the others by polling; textclf-loadgen spreads requests over all
// of them; stopping one with SIGTERM under load fails no request.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "google/protobuf/util/time_util.h"
#include "tests/server/server_test_support.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/run_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kPollSeconds = 1;
constexpr char kModel[] = "cb";

struct Replica {
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<v1::Classifier::Stub> stub;

  double OkRequests() const {
    return SumSamples(HttpGet(process->metrics_port(), "/metrics"), "textclf_requests_total",
                      {"code=\"OK\"", "model=\"cb\""});
  }
};

// The steps textclf-loadgen printed with --json, one object a line.
std::vector<nlohmann::json> Steps(const ProcessResult& r) {
  std::vector<nlohmann::json> steps;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] == '{') steps.push_back(nlohmann::json::parse(line));
  }
  return steps;
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      Replica r;
      r.process = ServerProcess::Start(TEXTCLF_SERVER_PATH,
                                       {"--models", repository_.path().string(), "--poll-interval",
                                        std::to_string(kPollSeconds), "--threads", "1", "--drain-timeout", "10"});
      ASSERT_NE(r.process, nullptr);
      r.stub = v1::Classifier::NewStub(grpc::CreateChannel(r.process->address(), grpc::InsecureChannelCredentials()));
      replicas_.push_back(std::move(r));
    }
    std::ofstream texts(files_.path() / "texts.txt");
    const Labeled sample = ClickbaitTestSlice(100);
    for (const std::string& t : sample.texts) texts << t << "\n";
  }

  // Trains through replica 0 and waits until every replica serves the new version; returns the
  // seconds from its publication until the slowest replica served it.
  double TrainAndSpread() {
    TrainCall trained = Train(*replicas_[0].stub, ZestStart(kModel), ClickbaitSlice(150));
    EXPECT_TRUE(trained.status.ok()) << Describe(trained.status);
    auto info = GetModel(*replicas_[0].stub, kModel);
    EXPECT_TRUE(info.status.ok()) << Describe(info.status);
    if (!trained.status.ok() || !info.status.ok() || info.response.versions().empty()) return 1e9;
    const auto& version = *info.response.versions().rbegin();
    const auto published = std::chrono::system_clock::time_point(std::chrono::microseconds(
        google::protobuf::util::TimeUtil::TimestampToMicroseconds(version.created_at())));
    double slowest = 0;
    for (size_t i = 1; i < replicas_.size(); ++i) {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (true) {
        auto seen = GetModel(*replicas_[i].stub, kModel);
        const v1::VersionInfo* v = seen.status.ok() ? FindVersion(seen.response, version.version()) : nullptr;
        if (v != nullptr && v->state() == v1::LOADED) break;
        if (std::chrono::steady_clock::now() > give_up) {
          ADD_FAILURE() << "replica " << i << " never loaded the model";
          return 1e9;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      slowest = std::max(slowest, std::chrono::duration<double>(std::chrono::system_clock::now() - published).count());
    }
    return slowest;
  }

  std::vector<std::string> LoadgenArgs(size_t replicas, double duration_s, int concurrency) const {
    std::string targets;
    for (size_t i = 0; i < replicas; ++i) targets += (i ? "," : "") + replicas_[i].process->address();
    return {"--target", targets, "--model", kModel, "--text-file", (files_.path() / "texts.txt").string(),
            "--concurrency", std::to_string(concurrency), "--warmup", "0.3", "--duration",
            std::to_string(duration_s), "--json"};
  }

  TempDir repository_, files_;
  std::vector<Replica> replicas_;
};

TEST_F(ScaleOutTest, AModelTrainedThroughOneReplicaReachesTheOthersWithinTwoPollIntervals) {
  const double seconds = TrainAndSpread();
  std::cout << "published to served on every replica: " << seconds << " s (poll interval " << kPollSeconds
            << " s)\n";
  EXPECT_LE(seconds, 2.0 * kPollSeconds);
}

TEST_F(ScaleOutTest, LoadgenSpreadsRequestsOverEveryReplica) {
  TrainAndSpread();
  ProcessResult run = RunProcess(TEXTCLF_LOADGEN_PATH, LoadgenArgs(3, 2, 6));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto steps = Steps(run);
  ASSERT_EQ(steps.size(), 1u) << run.out;
  EXPECT_EQ(steps[0]["error_rate"], 0.0) << steps[0].dump();
  const double sent = steps[0]["requests"];
  ASSERT_GT(sent, 30);
  double served = 0;
  for (size_t i = 0; i < replicas_.size(); ++i) {
    const double ok = replicas_[i].OkRequests();
    served += ok;
    // Round robin over three targets gives each a third; warm-up requests count on the server.
    EXPECT_GT(ok, 0.25 * sent) << "replica " << i << " served " << ok << " of " << sent;
  }
  EXPECT_GE(served, sent);
}

TEST_F(ScaleOutTest, StoppingOneReplicaUnderLoadFailsNoRequest) {
  TrainAndSpread();
  ProcessResult run;
  std::thread load([&] { run = RunProcess(TEXTCLF_LOADGEN_PATH, LoadgenArgs(3, 4, 6)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const double ok_at_stop[2] = {replicas_[0].OkRequests(), replicas_[1].OkRequests()};
  replicas_[2].process->Signal(SIGTERM);
  EXPECT_EQ(replicas_[2].process->WaitForExit(std::chrono::seconds(20)), 0) << replicas_[2].process->log();
  load.join();
  EXPECT_THAT(replicas_[2].process->log(), HasSubstr("every call in flight finished"));

  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto steps = Steps(run);
  ASSERT_EQ(steps.size(), 1u) << run.out;
  EXPECT_EQ(steps[0]["status_counts"], nlohmann::json({{"OK", steps[0]["requests"]}}))
      << "requests failed: " << steps[0].dump();
  // The client kept going on the two replicas left.
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(replicas_[i].OkRequests(), ok_at_stop[i] + 50) << "replica " << i << " got no load after the stop";
  }
}

TEST_F(ScaleOutTest, ThroughputWithOneTwoAndThreeReplicas) {
  TrainAndSpread();
  std::vector<double> throughput;
  for (size_t n = 1; n <= 3; ++n) {
    ProcessResult run = RunProcess(TEXTCLF_LOADGEN_PATH, LoadgenArgs(n, 3, 8));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto steps = Steps(run);
    ASSERT_EQ(steps.size(), 1u) << run.out;
    EXPECT_EQ(steps[0]["error_rate"], 0.0) << steps[0].dump();
    throughput.push_back(steps[0]["throughput_rps"]);
    std::cout << "replicas " << n << ": " << std::fixed << std::setprecision(0) << throughput.back()
              << " requests/s, p50 " << std::setprecision(2) << steps[0]["p50_ms"].get<double>() << " ms, p99 "
              << steps[0]["p99_ms"].get<double>() << " ms\n";
    RecordProperty("throughput_rps_" + std::to_string(n), std::to_string(throughput.back()));
  }
  for (double t : throughput) EXPECT_GT(t, 0);
}

}  // namespace
}  // namespace textclf::testing
