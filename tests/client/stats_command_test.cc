// textclf stats through the real binary: the server's per-version statistics, as JSON equal to
// what the RPC answers and as a table with the figures people look for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "client/cli_common.h"
#include "tests/server/server_test_support.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

class StatsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); });
    ASSERT_NE(server_, nullptr);
  }
  ProcessResult Stats(std::vector<std::string> args) {
    args.insert(args.begin(), "stats");
    args.insert(args.end(), {"--server", server_->address()});
    return RunProcess(TEXTCLF_CLI_PATH, args);
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(StatsCommandTest, PrintsWhatTheServerCountedPerVersion) {
  TrainCall trained = Train(server_->stub(), ZestStart("st"), ClickbaitSlice(100));
  ASSERT_TRUE(trained.status.ok()) << Describe(trained.status);
  ASSERT_TRUE(Classify(server_->stub(), "st", {"one headline", "two headlines", "three"}).status.ok());
  ASSERT_FALSE(Classify(server_->stub(), "st", {""}).status.ok()) << "an empty text is refused";

  const ProcessResult json = Stats({"--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  v1::ModelStatisticsResponse direct;
  grpc::ClientContext context;
  ASSERT_TRUE(server_->stub().ModelStatistics(&context, v1::ModelStatisticsRequest(), &direct).ok());
  EXPECT_EQ(nlohmann::json::parse(json.out), nlohmann::json::parse(client::ToJsonLine(direct)));
  // Version 1's work, and the refusal (named no version that answered) under version 0.
  ASSERT_EQ(direct.versions_size(), 2);
  const v1::VersionStatistics& served = direct.versions(0).version() == 1 ? direct.versions(0) : direct.versions(1);
  const v1::VersionStatistics& refused = direct.versions(0).version() == 0 ? direct.versions(0) : direct.versions(1);
  EXPECT_EQ(served.inferences(), 3);
  EXPECT_EQ(refused.requests_by_code().at("INVALID_ARGUMENT"), 1);

  const ProcessResult table = Stats({"--model", "st"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("latency p50/p90/p99 ms"));
  std::istringstream lines(table.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_THAT(row, ::testing::StartsWith("st "));
  EXPECT_THAT(table.out, HasSubstr("INVALID_ARGUMENT=1"));
}

TEST_F(StatsCommandTest, SaysSoBeforeAnyRequestAndRefusesAnUnknownModel) {
  const ProcessResult empty = Stats({});
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_THAT(empty.out, HasSubstr("no statistics yet"));
  const ProcessResult unknown = Stats({"--model", "nosuch"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
}

}  // namespace
}  // namespace textclf::testing
