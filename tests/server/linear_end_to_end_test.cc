// The LINEAR family through the real server: trained by Train, served by Classify, evaluated by
// Evaluate, and still the same after a restart (its weights are read back from the repository);
// naive Bayes with int8 weights, as a client configures it, served as ModelStatistics says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

TEST(LinearEndToEnd, TrainsServesEvaluatesAndReloads) {
  TempDir root;
  v1::TrainStart start;
  start.set_model("lin");
  start.set_family(v1::LINEAR);
  start.mutable_config()->mutable_linear()->set_hash_bits(16);
  const Labeled train = ClickbaitSlice(300);
  const Labeled test = ClickbaitTestSlice(100);
  v1::ClassifyRequest request;
  request.set_model("lin");
  for (const auto& t : test.texts) request.add_texts(t);
  std::vector<std::string> before;
  {
    auto server = TestServer::Start(root.path());
    ASSERT_NE(server, nullptr);
    TrainCall trained = Train(server->stub(), start, train);
    ASSERT_TRUE(trained.status.ok()) << Describe(trained.status);
    EXPECT_EQ(trained.result.model().family(), v1::LINEAR);
    ClassifyCall call = Classify(server->stub(), request);
    ASSERT_TRUE(call.status.ok()) << Describe(call.status);
    int correct = 0;
    for (int i = 0; i < call.response.predictions_size(); ++i) {
      before.push_back(call.response.predictions(i).label());
      correct += call.response.predictions(i).label() == test.labels[static_cast<size_t>(i)] ? 1 : 0;
    }
    EXPECT_GT(correct, 170) << "of 200 held-out headlines";
    EvaluateCall eval = Evaluate(server->stub(), "lin", 0, "holdout", test);
    ASSERT_TRUE(eval.status.ok()) << Describe(eval.status);
    EXPECT_DOUBLE_EQ(eval.response.metrics().accuracy(), correct / 200.0);
  }
  auto restarted = TestServer::Start(root.path());
  ASSERT_NE(restarted, nullptr);
  ClassifyCall again = Classify(restarted->stub(), request);
  ASSERT_TRUE(again.status.ok()) << Describe(again.status);
  for (int i = 0; i < again.response.predictions_size(); ++i) EXPECT_EQ(again.response.predictions(i).label(), before[i]);
}

TEST(LinearEndToEnd, NaiveBayesWithInt8WeightsIsServedAsConfigured) {
  TempDir root;
  auto server = TestServer::Start(root.path());
  ASSERT_NE(server, nullptr);
  v1::TrainStart start;
  start.set_model("nb");
  start.set_family(v1::LINEAR);
  v1::LinearConfig* config = start.mutable_config()->mutable_linear();
  config->set_hash_bits(16);
  config->set_method(v1::LinearConfig::NAIVE_BAYES);
  config->set_weight_storage(v1::LinearConfig::INT8);
  TrainCall trained = Train(server->stub(), start, ClickbaitSlice(300));
  ASSERT_TRUE(trained.status.ok()) << Describe(trained.status);
  ASSERT_EQ(trained.result.model().versions_size(), 1);
  EXPECT_GT(trained.result.model().versions(0).config().linear().nb_alpha(), 0) << "the chosen smoothing is recorded";

  const Labeled test = ClickbaitTestSlice(100);
  EvaluateCall eval = Evaluate(server->stub(), "nb", 0, "holdout", test);
  ASSERT_TRUE(eval.status.ok()) << Describe(eval.status);
  EXPECT_GT(eval.response.metrics().accuracy(), 0.8) << "of 200 held-out headlines";

  grpc::ClientContext context;
  v1::ModelStatisticsRequest request;
  request.set_model("nb");
  v1::ModelStatisticsResponse statistics;
  ASSERT_TRUE(server->stub().ModelStatistics(&context, request, &statistics).ok());
  ASSERT_EQ(statistics.versions_size(), 1);
  EXPECT_EQ(statistics.versions(0).execution(), "naive Bayes, int8 weights (a scale per class)");
}

}  // namespace
}  // namespace textclf::testing
