// textclf feedback through the real binary: a prediction named by the request id and index that
// classify --json prints, or by its text; what the server answered; and the usage errors that
// never reach it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/run_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

class FeedbackCommandTest : public ::testing::Test {
 protected:
  // One server for the suite, serving "fb", trained once per CTest run.
  static void SetUpTestSuite() {
    root_ = new TempDir;
    ASSERT_TRUE(CopyFixtureModels(kZestFeedback, root_->path()));
    server_ = TestServer::Start(root_->path(), [](v1::ServerConfig& c) { c.set_metrics_port(-1); }).release();
    ASSERT_NE(server_, nullptr);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete root_;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.end(), {"--server", server_->address()});
    return RunProcess(TEXTCLF_CLI_PATH, args);
  }
  static std::string OtherLabel(const std::string& label) { return label == "news" ? "clickbait" : "news"; }

  static TempDir* root_;
  static TestServer* server_;
};

TempDir* FeedbackCommandTest::root_ = nullptr;
TestServer* FeedbackCommandTest::server_ = nullptr;

TEST_F(FeedbackCommandTest, NamesAPredictionByTheRequestIdThatClassifyPrinted) {
  const ProcessResult classified =
      Run({"classify", "--model", "fb", "--json", "Oil prices fall in Asia trading", "You Won't Believe This"});
  ASSERT_EQ(classified.exit_code, 0) << classified.err;
  std::istringstream lines(classified.out);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  const nlohmann::json prediction = nlohmann::json::parse(second);
  ASSERT_TRUE(prediction.contains("request_id")) << second;
  EXPECT_EQ(prediction["index"], 1);
  EXPECT_EQ(prediction["request_id"], nlohmann::json::parse(first)["request_id"]) << "one request, one id";

  const ProcessResult right = Run({"feedback", "--request-id", prediction["request_id"], "--index", "1", "--label",
                                   prediction["label"]});
  ASSERT_EQ(right.exit_code, 0) << right.err;
  EXPECT_THAT(right.out, HasSubstr("fb version 1 predicted " + prediction["label"].get<std::string>() + ": correct"));
  EXPECT_THAT(right.out, HasSubstr("online accuracy"));
}

TEST_F(FeedbackCommandTest, NamesAPredictionByItsTextAndPrintsTheServersAnswerAsJson) {
  const std::string text = "Oil prices fall in Asia trading";
  ClassifyCall direct = Classify(server_->stub(), "fb", {text});
  ASSERT_TRUE(direct.status.ok()) << Describe(direct.status);
  const std::string predicted = direct.response.predictions(0).label();
  const ProcessResult r =
      Run({"feedback", "--model", "fb", "--text", text, "--label", OtherLabel(predicted), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json answer = nlohmann::json::parse(r.out);
  EXPECT_EQ(answer["model"], "fb");
  EXPECT_EQ(answer["predicted_label"], predicted);
  EXPECT_EQ(answer["correct"], false);
  EXPECT_GE(answer["online_accuracy"].get<double>(), 0.0);
  EXPECT_LT(answer["online_accuracy"].get<double>(), 1.0);
}

TEST_F(FeedbackCommandTest, PassesOnTheServersRefusal) {
  const ProcessResult unknown = Run({"feedback", "--request-id", "no-such-request", "--label", "news"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  const ProcessResult label = Run({"feedback", "--model", "fb", "--text", "a text", "--label", "sports"});
  EXPECT_EQ(label.exit_code, 1);
  EXPECT_THAT(label.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(label.err, HasSubstr("not a class"));
}

TEST_F(FeedbackCommandTest, RefusesAnIncompleteOrAmbiguousNameLocally) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"feedback", "--label", "news"}, "name the prediction"},
      {{"feedback", "--model", "fb", "--label", "news"}, "name the prediction"},
      {{"feedback", "--request-id", "r", "--text", "t", "--label", "news"}, "not both"},
      {{"feedback", "--model", "fb", "--text", "t", "--index", "2", "--label", "news"}, "--index goes with"},
      {{"feedback", "--model", "fb", "--text", "t"}, "--label"},
  };
  for (const auto& [args, message] : cases) {
    const ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << message << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
  }
}

}  // namespace
}  // namespace textclf::testing
