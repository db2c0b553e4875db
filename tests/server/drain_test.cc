// Graceful shutdown of the real textclf-server process: on SIGTERM health turns NOT_SERVING at
// once, new calls are refused with UNAVAILABLE, calls in flight finish (up to --drain-timeout),
// and the process exits 0.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <functional>
#include <thread>

#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/health_probe.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/run_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

std::chrono::system_clock::time_point In(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

// An Evaluate stream left open: a call in flight for as long as the test wants.
struct OpenEvaluate {
  grpc::ClientContext context;
  v1::EvaluateResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::EvaluateRequest>> writer;

  bool Begin(v1::Classifier::Stub& stub, const Labeled& first) {
    context.set_deadline(In(60));
    writer = stub.Evaluate(&context, &response);
    v1::EvaluateRequest start;
    start.mutable_start()->set_model("cb");
    start.mutable_start()->set_dataset("drain");
    return writer->Write(start) && Send(first);
  }
  bool Send(const Labeled& examples) {
    v1::EvaluateRequest batch;
    for (size_t i = 0; i < examples.size(); ++i) {
      v1::Example* e = batch.mutable_batch()->add_examples();
      e->set_text(examples.texts[i]);
      e->set_label(examples.labels[i]);
    }
    return writer->Write(batch);
  }
  grpc::Status Finish() {
    writer->WritesDone();
    return writer->Finish();
  }
};

class DrainTest : public ::testing::Test {
 protected:
  // Serving "cb", trained once per CTest run.
  void StartServer(const std::string& drain_timeout) {
    ASSERT_TRUE(CopyFixtureModels(kZestCb, root_.path()));
    server_ = ServerProcess::Start(TEXTCLF_SERVER_PATH, {"--models", root_.path().string(), "--threads", "2",
                                                         "--drain-timeout", drain_timeout});
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Classifier::NewStub(channel_);
  }

  // Batches the server's runtime computed so far (its /metrics).
  double Batches() const { return SumSamples(HttpGet(server_->metrics_port(), "/metrics"), "textclf_batches_total"); }
  static bool WaitFor(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  TempDir root_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Classifier::Stub> stub_;
};

TEST_F(DrainTest, SigtermFinishesCallsInFlightRefusesNewOnesAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(StartServer("10"));

  grpc::ClientContext watch_context;
  watch_context.set_deadline(In(30));
  auto watch = WatchHealth(channel_.get(), &watch_context, /*service=*/"");  // "": the whole server
  health::HealthCheckResponse status;
  ASSERT_TRUE(watch->Read(&status));
  ASSERT_EQ(status.status(), HealthStatus::SERVING);

  const Labeled first = ClickbaitTestSlice(20), second = ClickbaitTestSlice(20, 20);  // 40 texts each
  OpenEvaluate in_flight;
  const double batches_before = Batches();
  ASSERT_TRUE(in_flight.Begin(*stub_, first));
  // Begin returns once its messages are on their way, not once the server took the call; a call
  // the server has not started when SIGTERM comes is a new call, refused. Wait until the server
  // ran the first batch of this one.
  ASSERT_TRUE(WaitFor([&] { return Batches() > batches_before; })) << "the server never ran the first batch";

  server_->Signal(SIGTERM);
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), HealthStatus::NOT_SERVING);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(1)) << "health turned late";
  watch_context.TryCancel();  // an open Watch is a call in flight too
  (void)watch->Finish();

  // The moment health turned, the server stopped taking calls; give its Shutdown a moment to run.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ClassifyCall refused = Classify(*stub_, "cb", {"breaking news"});
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(refused.status);
  auto fresh = v1::Classifier::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  ClassifyCall refused_fresh = Classify(*fresh, "cb", {"breaking news"});
  EXPECT_EQ(refused_fresh.status.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(refused_fresh.status);

  // The call accepted before the signal still completes, with everything it sent.
  ASSERT_TRUE(in_flight.Send(second));
  grpc::Status finished = in_flight.Finish();
  ASSERT_TRUE(finished.ok()) << Describe(finished);
  EXPECT_EQ(in_flight.response.metrics().examples(), static_cast<int64_t>(first.size() + second.size()));

  EXPECT_EQ(server_->WaitForExit(std::chrono::seconds(20)), 0) << server_->log();
  EXPECT_THAT(server_->log(), HasSubstr("every call in flight finished"));
}

TEST_F(DrainTest, CallsStillRunningAtTheDrainTimeoutAreCancelledAndTheExitIsStillZero) {
  ASSERT_NO_FATAL_FAILURE(StartServer("1"));
  OpenEvaluate stuck;
  const double batches_before = Batches();
  ASSERT_TRUE(stuck.Begin(*stub_, ClickbaitTestSlice(5)));
  ASSERT_TRUE(WaitFor([&] { return Batches() > batches_before; })) << "the server never ran the first batch";
  server_->Signal(SIGTERM);
  const auto signalled = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->WaitForExit(std::chrono::seconds(20)), 0) << server_->log();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  EXPECT_GE(took, 0.9) << "the call in flight was not given its drain time";
  EXPECT_LT(took, 6) << "the drain timeout did not bound the shutdown";
  EXPECT_THAT(server_->log(), HasSubstr("drain_timeout"));
  EXPECT_FALSE(stuck.Finish().ok()) << "a call cut by the drain timeout cannot have succeeded";
}

TEST(DrainFlagsTest, NegativeDurationsAreUsageErrors) {
  for (const std::string flag : {"--drain-timeout", "--poll-interval", "--max-connection-age"}) {
    ProcessResult r = RunProcess(TEXTCLF_SERVER_PATH, {flag, "-1", "--port", "0", "--metrics-port", "-1"});
    EXPECT_EQ(r.exit_code, 2) << flag << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(flag)) << flag;
  }
}

}  // namespace
}  // namespace textclf::testing
