// The serving runtime seen from a client: metrics in a real /metrics scrape, Feedback,
// ModelStatistics, deadlines, priorities and the queue limit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/synthetic_corpus.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the sample line `name{labels}` in a Prometheus text exposition, or -1.
double Sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

class RuntimeRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestCbLarger, root_.path()));
    server_ = TestServer::Start(root_.path(), [](v1::ServerConfig& c) { c.set_metrics_port(0); });
    ASSERT_NE(server_, nullptr);
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(RuntimeRpcTest, AScrapeCountsExactlyWhatWasSent) {
  const Labeled texts = ClickbaitTestSlice(10);
  for (size_t i = 0; i < 6; ++i) {
    ClassifyCall call = Classify(server_->stub(), "cb", {texts.texts[i], texts.texts[i + 6]});
    ASSERT_TRUE(call.status.ok()) << Describe(call.status);
    EXPECT_FALSE(call.response.request_id().empty());
    EXPECT_GE(call.response.compute_us(), 1);
  }
  ASSERT_EQ(Classify(server_->stub(), "nope", {"x"}).status.error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string scrape = HttpGet(server_->server().metrics_port(), "/metrics");
  ASSERT_THAT(scrape, HasSubstr("200 OK"));
  const std::string labels = "model=\"cb\",version=\"1\"";
  EXPECT_EQ(Sample(scrape, "textclf_requests_total{code=\"OK\",method=\"Classify\"," + labels + "}"), 6);
  // The refusal of an unknown model is counted too, without its made-up name.
  EXPECT_EQ(Sample(scrape, "textclf_requests_total{code=\"NOT_FOUND\",method=\"Classify\",model=\"\",version=\"\"}"), 1);
  EXPECT_EQ(Sample(scrape, "textclf_inferences_total{" + labels + "}"), 12);
  EXPECT_EQ(Sample(scrape, "textclf_request_duration_seconds_count{" + labels + "}"), 6);
  EXPECT_EQ(Sample(scrape, "textclf_prediction_confidence_count{" + labels + "}"), 12);
  const double batches = Sample(scrape, "textclf_batches_total{" + labels + "}");
  EXPECT_GE(batches, 1);
  EXPECT_LE(batches, 6);
  EXPECT_EQ(Sample(scrape, "textclf_batch_size_count{" + labels + "}"), batches);
  EXPECT_EQ(Sample(scrape, "textclf_batch_size_sum{" + labels + "}"), 12);
  EXPECT_EQ(Sample(scrape, "textclf_model_loaded{" + labels + "}"), 1);
  EXPECT_EQ(Sample(scrape, "textclf_pending_requests{" + labels + "}"), 0);
  EXPECT_GT(Sample(scrape, "textclf_model_load_duration_seconds{" + labels + "}"), 0);
}

TEST_F(RuntimeRpcTest, EvaluateAndFeedbackMoveTheAccuracyGauges) {
  EvaluateCall evaluated = Evaluate(server_->stub(), "cb", 0, "holdout", ClickbaitTestSlice(100));
  ASSERT_TRUE(evaluated.status.ok()) << Describe(evaluated.status);
  const Labeled texts = ClickbaitTestSlice(2, 200);
  ClassifyCall call = Classify(server_->stub(), "cb", texts.texts);
  ASSERT_TRUE(call.status.ok());
  int correct = 0;
  for (int i = 0; i < 4; ++i) {
    grpc::ClientContext context;
    v1::FeedbackRequest request;
    request.set_request_id(call.response.request_id());
    request.set_index(i);
    request.set_true_label(texts.labels[i]);
    v1::FeedbackResponse response;
    ASSERT_TRUE(server_->stub().Feedback(&context, request, &response).ok());
    EXPECT_EQ(response.predicted_label(), call.response.predictions(i).label());
    EXPECT_EQ(response.correct(), texts.labels[i] == call.response.predictions(i).label());
    correct += response.correct();
  }
  const std::string scrape = HttpGet(server_->server().metrics_port(), "/metrics");
  const std::string labels = "model=\"cb\",version=\"1\"";
  EXPECT_NEAR(Sample(scrape, "textclf_model_accuracy{dataset=\"holdout\"," + labels + "}"),
              evaluated.response.metrics().accuracy(), 1e-9);
  EXPECT_NEAR(Sample(scrape, "textclf_model_auc{dataset=\"holdout\"," + labels + "}"),
              evaluated.response.metrics().auc(), 1e-9);
  EXPECT_EQ(Sample(scrape, "textclf_feedback_total{model=\"cb\",outcome=\"correct\",version=\"1\"}"), correct);
  EXPECT_NEAR(Sample(scrape, "textclf_online_accuracy{" + labels + "}"), correct / 4.0, 1e-9);
}

TEST_F(RuntimeRpcTest, FeedbackByTextClassifiesItAgain) {
  grpc::ClientContext context;
  v1::FeedbackRequest request;
  request.set_model("cb");
  request.set_text("You Won't Believe These 17 Cats Who Are Clearly Running The House");
  request.set_true_label("clickbait");
  v1::FeedbackResponse response;
  ASSERT_TRUE(server_->stub().Feedback(&context, request, &response).ok());
  EXPECT_EQ(response.version(), 1);
  EXPECT_EQ(response.correct(), response.predicted_label() == "clickbait");
}

TEST_F(RuntimeRpcTest, FeedbackRejectsUnknownRequestsAndLabels) {
  grpc::ClientContext c1;
  v1::FeedbackRequest unknown;
  unknown.set_request_id("no-such-request");
  unknown.set_true_label("news");
  v1::FeedbackResponse response;
  grpc::Status s1 = server_->stub().Feedback(&c1, unknown, &response);
  EXPECT_EQ(s1.error_code(), grpc::StatusCode::NOT_FOUND);
  ClassifyCall call = Classify(server_->stub(), "cb", {"Some headline about budgets"});
  grpc::ClientContext c2;
  v1::FeedbackRequest bad_label;
  bad_label.set_request_id(call.response.request_id());
  bad_label.set_true_label("sports");
  grpc::Status s2 = server_->stub().Feedback(&c2, bad_label, &response);
  EXPECT_EQ(s2.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s2.error_message(), HasSubstr("sports"));
  grpc::ClientContext c3;
  v1::FeedbackRequest bad_index = bad_label;
  bad_index.set_true_label("news");
  bad_index.set_index(5);
  EXPECT_EQ(server_->stub().Feedback(&c3, bad_index, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Version numbers are never reused: a prediction of a deleted version cannot be matched with
// another model that took its number (which, with fewer classes, read past its class list).
TEST_F(RuntimeRpcTest, FeedbackOnAPredictionOfADeletedModelIsNotFound) {
  const SyntheticCorpus corpus = MakeTopicCorpus(3, 60, 5);
  Labeled three;
  for (size_t i = 0; i < corpus.texts.size(); ++i) three.Add(corpus.texts[i], corpus.classes[corpus.labels[i]]);
  ASSERT_TRUE(Train(server_->stub(), ZestStart("topics"), three).status.ok());
  ClassifyCall call = Classify(server_->stub(), "topics", three.texts);
  ASSERT_TRUE(call.status.ok()) << Describe(call.status);
  const std::string last_class = *std::max_element(corpus.classes.begin(), corpus.classes.end());
  int index = -1;
  for (int i = 0; i < call.response.predictions_size() && index < 0; ++i) {
    if (call.response.predictions(i).label() == last_class) index = i;
  }
  ASSERT_GE(index, 0) << "no text was predicted as the third class";
  ASSERT_TRUE(DeleteModel(server_->stub(), "topics", 0).status.ok());
  TrainCall two = Train(server_->stub(), ZestStart("topics"), ClickbaitSlice(100));
  ASSERT_TRUE(two.status.ok()) << Describe(two.status);
  EXPECT_EQ(two.result.version(), 2);

  grpc::ClientContext context;
  v1::FeedbackRequest request;
  request.set_request_id(call.response.request_id());
  request.set_index(index);
  request.set_true_label("news");
  v1::FeedbackResponse response;
  grpc::Status status = server_->stub().Feedback(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  EXPECT_TRUE(Classify(server_->stub(), "topics", {"a headline"}).status.ok()) << "the server is still up";
}

TEST_F(RuntimeRpcTest, AnUnboundedDatasetNameReachesNeitherMetricsNorDisk) {
  for (const std::string& dataset : {std::string(8 << 20, 'd'), std::string("with space"), std::string("a\nb")}) {
    EvaluateCall call = Evaluate(server_->stub(), "cb", 0, dataset, ClickbaitTestSlice(5));
    EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(call.status);
    EXPECT_LT(call.status.error_message().size(), 300u);
  }
  const std::string scrape = HttpGet(server_->server().metrics_port(), "/metrics");
  EXPECT_LT(scrape.size(), size_t{1} << 20);
  EXPECT_THAT(scrape, Not(HasSubstr("dataset=")));
  EXPECT_TRUE(ReadTree(root_.path() / "cb").count("1/metrics.json") == 0) << "nothing was recorded";
}

TEST_F(RuntimeRpcTest, ModelStatisticsMatchesTheTraffic) {
  const Labeled texts = ClickbaitTestSlice(5);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Classify(server_->stub(), "cb", texts.texts).status.ok());
  grpc::ClientContext context;
  v1::ModelStatisticsRequest request;
  request.set_model("cb");
  v1::ModelStatisticsResponse response;
  ASSERT_TRUE(server_->stub().ModelStatistics(&context, request, &response).ok());
  ASSERT_EQ(response.versions_size(), 1);
  const v1::VersionStatistics& s = response.versions(0);
  EXPECT_EQ(s.requests_by_code().at("OK"), 3);
  EXPECT_EQ(s.inferences(), 30);
  EXPECT_EQ(s.request_latency().count(), 3);
  EXPECT_GT(s.request_latency().p50_ms(), 0);
  EXPECT_GE(s.mean_batch_size(), 10);
  grpc::ClientContext unknown;
  request.set_model("nope");
  EXPECT_EQ(server_->stub().ModelStatistics(&unknown, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(RuntimeRpcTest, AnExpiredDeadlineIsDeadlineExceeded) {
  v1::ClassifyRequest request;
  request.set_model("cb");
  for (int i = 0; i < 4000; ++i) request.add_texts("Which Of These Fifty Two Amazing Dogs Are You Really");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(5));
  v1::ClassifyResponse response;
  grpc::Status status = server_->stub().Classify(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

class QueueLimitTest : public ::testing::Test {
 protected:
  TempDir root_;
};

TEST_F(QueueLimitTest, AFullQueueIsResourceExhaustedAndNamesTheSetting) {
  auto server = TestServer::Start(root_.path(), [](v1::ServerConfig& c) {
    v1::BatchingConfig* b = (*c.mutable_model_overrides())["cb"].mutable_batching();
    b->set_max_queue_size(100);
  });
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Train(server->stub(), ZestStart("cb"), ClickbaitSlice(200)).status.ok());
  v1::ClassifyRequest request;
  request.set_model("cb");
  for (int i = 0; i < 101; ++i) request.add_texts("A headline");
  ClassifyCall call = Classify(server->stub(), request);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(call.status.error_message(), HasSubstr("max_queue_size"));
}

}  // namespace
}  // namespace textclf::testing
