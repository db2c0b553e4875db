#include "tests/support/fixture_recipes.h"

#include <gtest/gtest.h>

#include "tests/server/server_test_support.h"
#include "tests/support/fashion_mnist.h"

namespace textclf::testing {
namespace {

// Whether `call` published a version; a gtest failure saying why when not.
bool Published(const TrainCall& call) {
  EXPECT_TRUE(call.status.ok()) << Describe(call.status);
  return call.status.ok();
}

bool TrainQuantizableCnns(v1::Classifier::Stub& server) {
  v1::TrainStart text;
  text.set_model("headlines");
  text.set_family(v1::TEXT_CNN);
  v1::TextCnnConfig* tc = text.mutable_config()->mutable_text_cnn();
  tc->set_embedding_dim(32);
  tc->set_feature_maps(32);
  tc->set_max_vocabulary(8000);
  tc->mutable_training()->set_epochs(2);
  tc->mutable_training()->set_batch_size(32);
  if (!Published(Train(server, text, ClickbaitSlice(600)))) return false;

  std::vector<v1::TrainRequest> requests(1);
  v1::TrainStart* image = requests[0].mutable_start();
  image->set_model("fashion");
  image->set_family(v1::IMAGE_CNN);
  v1::ImageCnnConfig* ic = image->mutable_config()->mutable_image_cnn();
  ic->set_depth(8);
  ic->mutable_training()->set_epochs(3);
  ic->mutable_training()->set_batch_size(64);
  ic->mutable_training()->set_learning_rate(0.05);
  for (auto& batch : TensorBatches(FashionSlice("train", 0, 3000), v1::TRAIN)) {
    requests.emplace_back();
    *requests.back().mutable_batch() = std::move(batch);
  }
  return Published(TrainRaw(server, requests));
}

bool TrainZestTwoVersions(v1::Classifier::Stub& server) {
  TrainCall first = Train(server, ZestStart("m"), ClickbaitSlice(120, 0));
  if (!Published(first)) return false;
  EXPECT_EQ(first.result.version(), 1);
  TrainCall second = Train(server, ZestStart("m"), ClickbaitSlice(120, 120));
  if (!Published(second)) return false;
  EXPECT_EQ(second.result.version(), 2);
  return first.result.version() == 1 && second.result.version() == 2;
}

bool TrainZestGood(v1::Classifier::Stub& server) {
  return Published(Train(server, ZestStart("good"), ClickbaitSlice(150)));
}

bool TrainZestExisting(v1::Classifier::Stub& server) {
  return Published(Train(server, ZestStart("existing"), ClickbaitSlice(150)));
}

bool TrainZestGoodAndIdle(v1::Classifier::Stub& server) {
  constexpr size_t kMaxTextBytes = 100;  // classify_rpc_test's limit: every text it trains on fits
  const Labeled data = ClickbaitSlice(150, 0, kMaxTextBytes);
  v1::TrainStart idle = ZestStart("idle");
  idle.set_skip_load(true);
  return Published(Train(server, ZestStart("good"), data)) && Published(Train(server, idle, data));
}

bool TrainZestCb(v1::Classifier::Stub& server) {
  return Published(Train(server, ZestStart("cb"), ClickbaitSlice(150)));
}

bool TrainZestCbLarger(v1::Classifier::Stub& server) {
  return Published(Train(server, ZestStart("cb"), ClickbaitSlice(300)));
}

bool TrainZestCbWithEval(v1::Classifier::Stub& server) {
  TrainCall trained = Train(server, ZestStart("cb"), ClickbaitSlice(150), ClickbaitTestSlice(50));
  if (!Published(trained)) return false;
  EXPECT_TRUE(trained.result.has_eval_metrics());
  return trained.result.has_eval_metrics();
}

bool TrainZestBrokenAndHealthy(v1::Classifier::Stub& server) {
  const Labeled data = ClickbaitSlice(120);
  return Published(Train(server, ZestStart("broken"), data)) && Published(Train(server, ZestStart("healthy"), data));
}

bool TrainZestFeedback(v1::Classifier::Stub& server) {
  return Published(Train(server, ZestStart("fb"), ClickbaitSlice(100)));
}

bool TrainZestLoadgen(v1::Classifier::Stub& server) {
  return Published(Train(server, ZestStart("bait"), ClickbaitSlice(100)));
}

}  // namespace

const FixtureRecipe kQuantizableCnns{"quantizable-cnns", TrainQuantizableCnns};
const FixtureRecipe kZestTwoVersions{"zest-two-versions", TrainZestTwoVersions};
const FixtureRecipe kZestGood{"zest-good", TrainZestGood};
const FixtureRecipe kZestExisting{"zest-existing", TrainZestExisting};
const FixtureRecipe kZestGoodAndIdle{"zest-good-and-idle", TrainZestGoodAndIdle};
const FixtureRecipe kZestCb{"zest-cb", TrainZestCb};
const FixtureRecipe kZestCbLarger{"zest-cb-larger", TrainZestCbLarger};
const FixtureRecipe kZestCbWithEval{"zest-cb-with-eval", TrainZestCbWithEval};
const FixtureRecipe kZestBrokenAndHealthy{"zest-broken-and-healthy", TrainZestBrokenAndHealthy};
const FixtureRecipe kZestFeedback{"zest-feedback", TrainZestFeedback};
const FixtureRecipe kZestLoadgen{"zest-loadgen", TrainZestLoadgen};

const std::vector<const FixtureRecipe*>& CnnRecipes() {
  static const std::vector<const FixtureRecipe*> recipes = {&kQuantizableCnns};
  return recipes;
}

const std::vector<const FixtureRecipe*>& ZestRecipes() {
  static const std::vector<const FixtureRecipe*> recipes = {
      &kZestTwoVersions, &kZestGood,       &kZestExisting,         &kZestGoodAndIdle, &kZestCb,
      &kZestCbLarger,    &kZestCbWithEval, &kZestBrokenAndHealthy, &kZestFeedback,    &kZestLoadgen};
  return recipes;
}

}  // namespace textclf::testing
