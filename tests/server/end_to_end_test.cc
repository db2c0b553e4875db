// The whole life of a model through the real server on the real clickbait data: train with an
// evaluation split, classify, evaluate the held-out split, read the recorded metrics, restart.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;

TEST(ClickbaitEndToEnd, TrainsClassifiesEvaluatesAndAnswersTheSameAfterARestart) {
  const ClickbaitSplit& data = Clickbait();
  ASSERT_GT(data.train.size(), 20000u);
  ASSERT_GT(data.test.size(), 5000u);
  TempDir root;
  auto server = TestServer::Start(root.path());
  ASSERT_NE(server, nullptr);

  // Train, with the held-out 20% as the EVAL split.
  v1::TrainStart start = ZestStart("clickbait");
  start.set_eval_dataset("clickbait-holdout");
  TrainCall train = Train(server->stub(), start, data.train, data.test);
  ASSERT_TRUE(train.status.ok()) << Describe(train.status);
  ASSERT_TRUE(train.got_result);
  EXPECT_FALSE(train.progress.empty());
  const v1::TrainResult& result = train.result;
  EXPECT_EQ(result.version(), 1);
  EXPECT_GT(result.train_seconds(), 0);
  EXPECT_EQ(result.model().name(), "clickbait");
  EXPECT_EQ(result.model().family(), v1::ZEST);
  EXPECT_THAT(result.model().classes(), ElementsAre("clickbait", "news"));
  ASSERT_TRUE(result.has_eval_metrics());
  const v1::EvalMetrics& train_eval = result.eval_metrics();
  EXPECT_EQ(train_eval.examples(), static_cast<int64_t>(data.test.size()));
  EXPECT_EQ(train_eval.dataset(), "clickbait-holdout");
  EXPECT_GE(train_eval.accuracy(), 0.95);
  ASSERT_TRUE(train_eval.has_auc());
  EXPECT_GE(train_eval.auc(), 0.99);
  EXPECT_EQ(train_eval.per_class_size(), 2);
  EXPECT_EQ(train_eval.confusion_size(), 4);

  // Classify: a few obvious texts and a few held-out ones, in one request.
  std::vector<std::string> texts = {"You Won't Believe What This Dog Did When His Owner Came Home",
                                    "Senate approves budget bill after lengthy debate over spending cuts"};
  for (const std::string& t : ClickbaitTestSlice(3, 40).texts) texts.push_back(t);
  v1::ClassifyRequest request;
  request.set_model("clickbait");
  for (const auto& t : texts) request.add_texts(t);
  request.set_top_k(2);
  request.set_all_scores(true);
  ClassifyCall first = Classify(server->stub(), request);
  ASSERT_TRUE(first.status.ok()) << Describe(first.status);
  const v1::ClassifyResponse& response = first.response;
  EXPECT_EQ(response.model(), "clickbait");
  EXPECT_EQ(response.version(), 1);
  EXPECT_FALSE(response.request_id().empty());
  ASSERT_EQ(response.predictions_size(), static_cast<int>(texts.size()));
  EXPECT_EQ(response.predictions(0).label(), "clickbait");
  EXPECT_EQ(response.predictions(1).label(), "news");
  for (int i = 0; i < response.predictions_size(); ++i) {
    SCOPED_TRACE(texts[i]);
    const v1::Prediction& p = response.predictions(i);
    EXPECT_THAT(p.label(), ::testing::AnyOf("clickbait", "news"));
    EXPECT_GE(p.confidence(), 0.5);
    EXPECT_LE(p.confidence(), 1.0);
    EXPECT_TRUE(std::isfinite(p.score()));
    ASSERT_EQ(p.top_size(), 2);  // top_k honoured
    EXPECT_EQ(p.top(0).label(), p.label());
    EXPECT_GE(p.top(0).score(), p.top(1).score());
    EXPECT_NE(p.top(0).label(), p.top(1).label());
    ASSERT_EQ(p.all_scores_size(), 2);  // in model class order
    EXPECT_EQ(p.all_scores(0).label(), "clickbait");
    EXPECT_EQ(p.all_scores(1).label(), "news");
    EXPECT_NEAR(p.all_scores(0).probability() + p.all_scores(1).probability(), 1.0, 1e-4);
    // Request order: each prediction is the one the text gets on its own.
    v1::ClassifyRequest single = request;
    single.clear_texts();
    single.add_texts(texts[i]);
    ClassifyCall alone = Classify(server->stub(), single);
    ASSERT_TRUE(alone.status.ok()) << Describe(alone.status);
    EXPECT_TRUE(MessageDifferencer::Equals(alone.response.predictions(0), p))
        << alone.response.predictions(0).DebugString() << " vs " << p.DebugString();
    EXPECT_NE(alone.response.request_id(), response.request_id());
  }
  // Without top_k and all_scores: one class listed, no scores.
  request.clear_top_k();
  request.clear_all_scores();
  ClassifyCall plain = Classify(server->stub(), request);
  ASSERT_TRUE(plain.status.ok()) << Describe(plain.status);
  EXPECT_EQ(plain.response.predictions(0).top_size(), 1);
  EXPECT_EQ(plain.response.predictions(0).all_scores_size(), 0);

  // Evaluate on the held-out 20%.
  EvaluateCall eval = Evaluate(server->stub(), "clickbait", 0, "clickbait-test", data.test);
  ASSERT_TRUE(eval.status.ok()) << Describe(eval.status);
  EXPECT_EQ(eval.response.model(), "clickbait");
  EXPECT_EQ(eval.response.version(), 1);
  const v1::EvalMetrics& m = eval.response.metrics();
  EXPECT_EQ(m.examples(), static_cast<int64_t>(data.test.size()));
  EXPECT_EQ(m.dataset(), "clickbait-test");
  ASSERT_TRUE(m.has_auc());
  EXPECT_GE(m.auc(), 0.99);
  EXPECT_GE(m.accuracy(), 0.95);
  EXPECT_GE(m.macro_f1(), 0.95);
  EXPECT_NEAR(m.accuracy(), train_eval.accuracy(), 1e-9);  // same model, same examples

  // GetModel shows both recorded metrics under their dataset names.
  auto info = GetModel(server->stub(), "clickbait");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  const v1::VersionInfo* v1_info = FindVersion(info.response, 1);
  ASSERT_NE(v1_info, nullptr);
  EXPECT_EQ(v1_info->state(), v1::LOADED);
  ASSERT_TRUE(v1_info->metrics().contains("clickbait-test"));
  ASSERT_TRUE(v1_info->metrics().contains("clickbait-holdout"));
  EXPECT_NEAR(v1_info->metrics().at("clickbait-test").auc(), m.auc(), 1e-12);
  EXPECT_NEAR(v1_info->metrics().at("clickbait-test").accuracy(), m.accuracy(), 1e-12);
  EXPECT_EQ(v1_info->training().train_examples(), static_cast<int64_t>(data.train.size()));
  EXPECT_EQ(v1_info->training().eval_examples(), static_cast<int64_t>(data.test.size()));

  // Restart on the same root: loaded again, same answers.
  server->Stop();
  server = TestServer::Start(root.path());
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(server->server().load_failures().empty());
  auto after = GetModel(server->stub(), "clickbait");
  ASSERT_TRUE(after.status.ok()) << Describe(after.status);
  ASSERT_NE(FindVersion(after.response, 1), nullptr);
  EXPECT_EQ(FindVersion(after.response, 1)->state(), v1::LOADED);
  EXPECT_TRUE(FindVersion(after.response, 1)->metrics().contains("clickbait-test"));
  request.set_top_k(2);
  request.set_all_scores(true);
  ClassifyCall again = Classify(server->stub(), request);
  ASSERT_TRUE(again.status.ok()) << Describe(again.status);
  EXPECT_EQ(again.response.version(), 1);
  ASSERT_EQ(again.response.predictions_size(), response.predictions_size());
  for (int i = 0; i < response.predictions_size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(again.response.predictions(i), response.predictions(i)))
        << "text " << i << ": " << again.response.predictions(i).DebugString() << " vs "
        << response.predictions(i).DebugString();
  }
}

}  // namespace
}  // namespace textclf::testing
