// Load runs against a real in-process server on loopback: exact request counts, error classes,
// the open-loop rate, health checks, a request mix, and stopping early.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "client/loadgen/channel_pool.h"
#include "client/loadgen/load_runner.h"
#include "client/loadgen/senders.h"
#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::loadgen {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using textclf::testing::Labeled;
using textclf::testing::TestServer;

class LoadRunTest : public ::testing::Test {
 protected:
  // One server for the whole suite, serving "bait", trained once per CTest run on these texts.
  static void SetUpTestSuite() {
    root_ = new textclf::testing::TempDir;
    const Labeled data = textclf::testing::ClickbaitSlice(100);
    workload_ = new Workload{data.texts, data.labels};
    ASSERT_TRUE(textclf::testing::CopyFixtureModels(textclf::testing::kZestLoadgen, root_->path()));
    // No Prometheus endpoint: loadgen does not read it, and stopping it costs seconds per process.
    server_ = TestServer::Start(root_->path(), [](v1::ServerConfig& c) {
                c.set_metrics_port(-1);
                c.set_http_port(0);
              }).release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete root_;
    delete workload_;
  }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  // Options for a short run against the suite's server; adjust, then Finalize.
  Options BaseOptions() {
    Options o;
    o.targets = {server_->address()};
    o.model = "bait";
    o.text_file = "(in memory)";
    o.batch_size = 4;
    o.warmup_s = 0.1;
    o.timeout_s = 5;
    return o;
  }

  StepResult Run(Options o, const StepSpec& step) {
    EXPECT_EQ(Finalize(o), "");
    ChannelPool pool(o.targets, o.connections_per_target);
    std::unique_ptr<RequestSender> sender = MakeSender(o, pool, *workload_);
    return RunStep(step, o, *sender, no_stop_);
  }

  static textclf::testing::TempDir* root_;
  static TestServer* server_;
  static Workload* workload_;
  std::atomic<bool> no_stop_{false};
};

textclf::testing::TempDir* LoadRunTest::root_ = nullptr;
TestServer* LoadRunTest::server_ = nullptr;
Workload* LoadRunTest::workload_ = nullptr;

TEST_F(LoadRunTest, ClosedLoopSendsExactlyTheRequestsAskedFor) {
  Options o = BaseOptions();
  o.requests = 300;
  const StepResult r = Run(o, {false, 8, 0});
  EXPECT_EQ(r.requests, 300);
  EXPECT_EQ(r.ok, 300);
  EXPECT_THAT(r.status_counts, ElementsAre(Pair("OK", 300)));
  EXPECT_EQ(r.mode, "closed");
  EXPECT_EQ(r.concurrency, 8);
  EXPECT_GT(r.throughput_rps, 0);
  EXPECT_DOUBLE_EQ(r.texts_per_s, r.throughput_rps * 4);
  EXPECT_LE(r.latency_ms.min, r.latency_ms.p50);
  EXPECT_LE(r.latency_ms.p50, r.latency_ms.p99);
  EXPECT_LE(r.latency_ms.p99, r.latency_ms.max);
  ASSERT_TRUE(r.server_compute_ms.has_value()) << "Classify responses carry compute_us";
  EXPECT_EQ(r.server_compute_ms->count, 300u);
}

// --protocol oip-grpc: the same requests through the Open Inference Protocol's ModelInfer.
TEST_F(LoadRunTest, TheOpenInferenceProtocolFrontDoorIsMeasuredTheSameWay) {
  Options o = BaseOptions();
  o.protocol = "oip-grpc";
  o.requests = 200;
  const StepResult r = Run(o, {false, 4, 0});
  EXPECT_EQ(r.requests, 200);
  EXPECT_THAT(r.status_counts, ElementsAre(Pair("OK", 200)));
  EXPECT_DOUBLE_EQ(r.texts_per_s, r.throughput_rps * 4);
  o.model = "no-such-model";
  const StepResult unknown = Run(o, {false, 4, 0});
  EXPECT_THAT(unknown.status_counts, ElementsAre(Pair("NOT_FOUND", 200)));
  Options bad = BaseOptions();
  bad.protocol = "soap";
  EXPECT_THAT(Finalize(bad), ::testing::HasSubstr("--protocol"));
}

// --protocol oip-http: the same requests as JSON infer calls on the HTTP port, one connection per
// request in flight; errors come back as the gRPC codes of their HTTP statuses.
TEST_F(LoadRunTest, TheHttpFrontDoorIsMeasuredTheSameWay) {
  Options o = BaseOptions();
  o.protocol = "oip-http";
  o.http_target = "127.0.0.1:" + std::to_string(server_->server().http_port());
  o.concurrency_items = {"4"};
  o.requests = 200;
  const StepResult r = Run(o, {false, 4, 0});
  EXPECT_EQ(r.requests, 200);
  EXPECT_THAT(r.status_counts, ElementsAre(Pair("OK", 200)));
  EXPECT_EQ(r.protocol, "oip-http");
  EXPECT_DOUBLE_EQ(r.texts_per_s, r.throughput_rps * 4);
  o.model = "no-such-model";
  const StepResult unknown = Run(o, {false, 4, 0});
  EXPECT_THAT(unknown.status_counts, ElementsAre(Pair("NOT_FOUND", 200)));
  Options missing = BaseOptions();
  missing.protocol = "oip-http";
  EXPECT_THAT(Finalize(missing), ::testing::HasSubstr("--http-target"));
}

TEST_F(LoadRunTest, CountsAnUnknownModelAsNotFoundForEveryRequest) {
  Options o = BaseOptions();
  o.model = "no-such-model";
  o.requests = 120;
  const StepResult r = Run(o, {false, 4, 0});
  EXPECT_EQ(r.requests, 120);
  EXPECT_EQ(r.ok, 0);
  EXPECT_THAT(r.status_counts, ElementsAre(Pair("NOT_FOUND", 120)));
  EXPECT_DOUBLE_EQ(r.error_rate, 1.0);
  EXPECT_EQ(r.texts_per_s, 0) << "failed requests scored no texts";
  EXPECT_EQ(r.throughput_rps, 0) << "throughput counts successful requests only";
  EXPECT_GT(r.answered_rps, 0);
  EXPECT_EQ(r.latency_ms.count, 0u);
  EXPECT_EQ(r.error_latency_ms.count, 120u);
}

TEST_F(LoadRunTest, OpenLoopHoldsTheRequestedRateWithinTenPercent) {
  Options o = BaseOptions();
  o.rates = {200};
  o.warmup_s = 0;
  o.duration_s = 2;
  const auto start = std::chrono::steady_clock::now();
  const StepResult r = Run(o, {true, 0, 200});
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.mode, "open");
  EXPECT_EQ(r.ok, r.requests);
  // Requests are counted by their scheduled time, so the count alone cannot show a lagging
  // sender: the wall-clock time of the whole step must match the schedule too.
  EXPECT_NEAR(r.throughput_rps, 200, 20);
  EXPECT_NEAR(r.requests / wall_s, 200, 20) << r.requests << " requests in " << wall_s << " s";
}

TEST_F(LoadRunTest, PoissonArrivalsAlsoAverageTheRequestedRate) {
  Options o = BaseOptions();
  o.rates = {400};
  o.arrivals_name = "poisson";
  o.warmup_s = 0;
  o.requests = 400;
  const auto start = std::chrono::steady_clock::now();
  const StepResult r = Run(o, {true, 0, 400});
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.requests, 400);
  EXPECT_EQ(r.arrivals, "poisson");
  EXPECT_NEAR(r.requests / wall_s, 400, 60);
}

TEST_F(LoadRunTest, HealthModeCallsOnlyTheHealthCheck) {
  Options o = BaseOptions();
  o.health = true;
  o.model.clear();
  o.requests = 500;
  const StepResult r = Run(o, {false, 4, 0});
  EXPECT_EQ(r.workload, "health");
  EXPECT_THAT(r.status_counts, ElementsAre(Pair("OK", 500)));
  EXPECT_EQ(r.texts_per_s, 0);
  EXPECT_FALSE(r.server_compute_ms.has_value());
}

TEST_F(LoadRunTest, MixesClassifyAndEvaluateRequests) {
  Options o = BaseOptions();
  o.csv = "(in memory)";
  o.text_file.clear();
  o.label_column = "label";
  o.mix_text = "classify=50,evaluate=50";
  o.requests = 60;
  const StepResult r = Run(o, {false, 2, 0});
  EXPECT_EQ(r.workload, "mix");
  EXPECT_THAT(r.status_counts, ElementsAre(Pair("OK", 60)));
  ASSERT_TRUE(r.server_compute_ms.has_value());
  // Only Classify responses carry the server's split; the mix leaves some requests without it.
  EXPECT_GT(r.server_compute_ms->count, 10u);
  EXPECT_LT(r.server_compute_ms->count, 50u);
}

TEST_F(LoadRunTest, SpreadsRequestsOverEveryTarget) {
  Options o = BaseOptions();
  o.targets = {server_->address(), server_->address()};
  o.requests = 100;
  const StepResult r = Run(o, {false, 4, 0});
  EXPECT_EQ(r.ok, 100);
}

TEST_F(LoadRunTest, RepeatsWindowsUntilThroughputIsStableAndReportsTheLastThree) {
  Options o = BaseOptions();
  o.health = true;
  o.requests = 200;
  o.stability_percent = 100;  // any three windows agree within 100%
  o.max_windows = 5;
  const StepResult r = Run(o, {false, 2, 0});
  EXPECT_TRUE(r.stable);
  EXPECT_EQ(r.windows, 3);
  EXPECT_EQ(r.requests, 600);
}

TEST_F(LoadRunTest, StopsPromptlyOnRequestAndReportsThePartialStep) {
  Options o = BaseOptions();
  o.duration_s = 30;
  o.warmup_s = 0;
  ASSERT_EQ(Finalize(o), "");
  ChannelPool pool(o.targets, 1);
  std::unique_ptr<RequestSender> sender = MakeSender(o, pool, *workload_);
  std::atomic<bool> stop{false};
  std::thread ctrl_c([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const StepResult r = RunStep({false, 4, 0}, o, *sender, stop);
  ctrl_c.join();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5);
  EXPECT_TRUE(r.interrupted);
  EXPECT_GT(r.requests, 0);
  EXPECT_EQ(r.ok, r.requests) << "requests cancelled by the stop are not counted as errors";
  EXPECT_NEAR(r.elapsed_s, 0.3, 0.2);
}

}  // namespace
}  // namespace textclf::loadgen
