// The ENSEMBLE family through the real server: members trained by Train, combined by a Train
// call that names them, served by Classify as their averaged probabilities, and protected: a
// member an ensemble uses can be neither deleted nor unloaded, and stays loaded when a newer
// version of it is published. Weighted and stacked ensembles fit on a CALIBRATION split and come
// back after a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

using ::testing::HasSubstr;

v1::TrainStart LinearStart(const std::string& name) {
  v1::TrainStart start;
  start.set_model(name);
  start.set_family(v1::LINEAR);
  start.mutable_config()->mutable_linear()->set_hash_bits(16);
  return start;
}

v1::TrainStart EnsembleStart(const std::string& name, std::vector<std::pair<std::string, int64_t>> members,
                             v1::EnsembleConfig::Combination combination = v1::EnsembleConfig::COMBINATION_AUTO) {
  v1::TrainStart start;
  start.set_model(name);
  start.set_family(v1::ENSEMBLE);
  v1::EnsembleConfig* config = start.mutable_config()->mutable_ensemble();
  for (const auto& [member, version] : members) {
    v1::ModelReference* ref = config->add_members();
    ref->set_name(member);
    ref->set_version(version);
  }
  config->set_combination(combination);
  return start;
}

// The start, then each split's examples in one batch.
TrainCall TrainWithSplits(v1::Classifier::Stub& stub, const v1::TrainStart& start,
                          const std::vector<std::pair<v1::Split, Labeled>>& splits) {
  std::vector<v1::TrainRequest> requests(1);
  *requests[0].mutable_start() = start;
  for (const auto& [split, data] : splits) {
    v1::TrainRequest& r = requests.emplace_back();
    r.mutable_batch()->set_split(split);
    for (size_t i = 0; i < data.size(); ++i) {
      v1::Example* e = r.mutable_batch()->add_examples();
      e->set_text(data.texts[i]);
      e->set_label(data.labels[i]);
    }
  }
  return TrainRaw(stub, requests);
}

// Every class's probability per text, by label.
std::vector<std::map<std::string, double>> Probabilities(v1::Classifier::Stub& stub, const std::string& model,
                                                         const std::vector<std::string>& texts) {
  v1::ClassifyRequest request;
  request.set_model(model);
  request.set_all_scores(true);
  for (const auto& t : texts) request.add_texts(t);
  ClassifyCall call = Classify(stub, request);
  EXPECT_TRUE(call.status.ok()) << Describe(call.status);
  std::vector<std::map<std::string, double>> out;
  for (const auto& p : call.response.predictions()) {
    auto& row = out.emplace_back();
    for (const auto& s : p.all_scores()) row[s.label()] = s.probability();
  }
  return out;
}

std::string Execution(v1::Classifier::Stub& stub, const std::string& model) {
  grpc::ClientContext context;
  v1::ModelStatisticsRequest request;
  request.set_model(model);
  v1::ModelStatisticsResponse statistics;
  EXPECT_TRUE(stub.ModelStatistics(&context, request, &statistics).ok());
  return statistics.versions_size() == 1 ? statistics.versions(0).execution() : "";
}

v1::ModelState StateOf(v1::Classifier::Stub& stub, const std::string& model, int64_t version) {
  auto info = GetModel(stub, model);
  const v1::VersionInfo* v = info.status.ok() ? FindVersion(info.response, version) : nullptr;
  return v == nullptr ? v1::STATE_UNSPECIFIED : v->state();
}

class EnsembleEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
    TrainCall zest = Train(server_->stub(), ZestStart("zest_cb"), ClickbaitSlice(300));
    ASSERT_TRUE(zest.status.ok()) << Describe(zest.status);
    TrainCall linear = Train(server_->stub(), LinearStart("lin_cb"), ClickbaitSlice(300));
    ASSERT_TRUE(linear.status.ok()) << Describe(linear.status);
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(EnsembleEndToEnd, ServesTheMeanOfItsMembersAndKeepsThemWhileItUsesThem) {
  v1::Classifier::Stub& stub = server_->stub();
  // No examples at all: averaging needs none. Version 0 means the latest, pinned at training.
  TrainCall trained = TrainWithSplits(stub, EnsembleStart("ens", {{"zest_cb", 0}, {"lin_cb", 1}}), {});
  ASSERT_TRUE(trained.status.ok()) << Describe(trained.status);
  EXPECT_EQ(trained.result.model().family(), v1::ENSEMBLE);
  const v1::EnsembleConfig& pinned = trained.result.model().versions(0).config().ensemble();
  ASSERT_EQ(pinned.members_size(), 2);
  EXPECT_EQ(pinned.members(0).version(), 1) << "\"latest\" is pinned to a number";
  EXPECT_EQ(pinned.combination(), v1::EnsembleConfig::AVERAGE);

  const Labeled test = ClickbaitTestSlice(20);
  const auto zest = Probabilities(stub, "zest_cb", test.texts);
  const auto linear = Probabilities(stub, "lin_cb", test.texts);
  const auto ensemble = Probabilities(stub, "ens", test.texts);
  ASSERT_EQ(ensemble.size(), test.size());
  // (ModelStatistics lists a version once it has served.)
  EXPECT_EQ(Execution(stub, "ens"), "average of zest_cb v1, lin_cb v1");
  for (size_t i = 0; i < ensemble.size(); ++i) {
    ASSERT_EQ(ensemble[i].size(), 2u);
    for (const auto& [label, p] : ensemble[i]) {
      EXPECT_NEAR(p, (zest[i].at(label) + linear[i].at(label)) / 2, 1e-5) << "text " << i << ", class " << label;
    }
  }

  // Members in use are kept: deleting or unloading one is refused, naming the ensemble, and
  // changes nothing.
  auto deleted = DeleteModel(stub, "zest_cb", 1);
  EXPECT_EQ(deleted.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(deleted.status.error_message(), HasSubstr("ensemble \"ens\" version 1"));
  EXPECT_EQ(DeleteModel(stub, "lin_cb", 0).status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  auto unloaded = UnloadModel(stub, "lin_cb", 1);
  EXPECT_EQ(unloaded.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(unloaded.status.error_message(), HasSubstr("\"ens\""));
  EXPECT_EQ(StateOf(stub, "lin_cb", 1), v1::LOADED);

  // A newer member version serves the member's own traffic; the ensemble keeps its pinned one.
  TrainCall newer = Train(stub, ZestStart("zest_cb"), ClickbaitSlice(200, 300));
  ASSERT_TRUE(newer.status.ok()) << Describe(newer.status);
  EXPECT_EQ(StateOf(stub, "zest_cb", 2), v1::LOADED);
  EXPECT_EQ(StateOf(stub, "zest_cb", 1), v1::LOADED) << "the ensemble holds version 1 beyond the policy";
  EXPECT_EQ(Probabilities(stub, "ens", test.texts), ensemble);

  // Once the ensemble goes, its members are ordinary versions again.
  auto gone = DeleteModel(stub, "ens", 0);
  ASSERT_TRUE(gone.status.ok()) << Describe(gone.status);
  EXPECT_EQ(StateOf(stub, "zest_cb", 1), v1::AVAILABLE) << "the policy (latest 1) unloads it";
  EXPECT_TRUE(DeleteModel(stub, "zest_cb", 1).status.ok());
}

TEST_F(EnsembleEndToEnd, WeightedAndStackedEnsemblesFitOnACalibrationSplitAndReload) {
  v1::Classifier::Stub& stub = server_->stub();
  const Labeled calibration = ClickbaitSlice(100, 300);
  const Labeled eval = ClickbaitTestSlice(100);
  TrainCall weighted = TrainWithSplits(
      stub, EnsembleStart("weighted", {{"zest_cb", 1}, {"lin_cb", 1}}, v1::EnsembleConfig::WEIGHTED),
      {{v1::CALIBRATION, calibration}, {v1::EVAL, eval}});
  ASSERT_TRUE(weighted.status.ok()) << Describe(weighted.status);
  ASSERT_TRUE(weighted.result.has_eval_metrics());
  EXPECT_GT(weighted.result.eval_metrics().accuracy(), 0.85) << "of 200 held-out headlines";
  EXPECT_THAT(Execution(stub, "weighted"), ::testing::MatchesRegex("weighted average of zest_cb v1 \\(0\\.[0-9]+\\), "
                                                                    "lin_cb v1 \\(0\\.[0-9]+\\)"));

  TrainCall stacked = TrainWithSplits(
      stub, EnsembleStart("stacked", {{"zest_cb", 1}, {"lin_cb", 1}}, v1::EnsembleConfig::STACKING),
      {{v1::CALIBRATION, calibration}, {v1::EVAL, eval}});
  ASSERT_TRUE(stacked.status.ok()) << Describe(stacked.status);
  EXPECT_GT(stacked.result.eval_metrics().accuracy(), 0.85);
  EXPECT_EQ(Execution(stub, "stacked"), "stacking of zest_cb v1, lin_cb v1");
  EXPECT_DOUBLE_EQ(Evaluate(stub, "stacked", 1, "again", eval).response.metrics().accuracy(),
                   stacked.result.eval_metrics().accuracy());

  const auto before = Probabilities(stub, "stacked", eval.texts);
  server_.reset();
  auto restarted = TestServer::Start(root_.path());
  ASSERT_NE(restarted, nullptr);
  EXPECT_EQ(StateOf(restarted->stub(), "stacked", 1), v1::LOADED) << "its members load with it";
  const auto after = Probabilities(restarted->stub(), "stacked", eval.texts);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    for (const auto& [label, p] : after[i]) EXPECT_NEAR(p, before[i].at(label), 1e-6);
  }
}

TEST_F(EnsembleEndToEnd, RefusesMembersItCannotCombine) {
  v1::Classifier::Stub& stub = server_->stub();
  auto code = [&](const v1::TrainStart& start, const std::vector<std::pair<v1::Split, Labeled>>& splits = {}) {
    TrainCall call = TrainWithSplits(stub, start, splits);
    return std::make_pair(call.status.error_code(), call.status.error_message());
  };
  auto one = code(EnsembleStart("e", {{"zest_cb", 1}}));
  EXPECT_EQ(one.first, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(one.second, HasSubstr("2 to 8 members"));
  auto missing = code(EnsembleStart("e", {{"zest_cb", 1}, {"nosuch", 0}}));
  EXPECT_EQ(missing.first, grpc::StatusCode::NOT_FOUND) << missing.second;
  EXPECT_THAT(missing.second, HasSubstr("member nosuch"));
  auto twice = code(EnsembleStart("e", {{"zest_cb", 1}, {"zest_cb", 0}}));
  EXPECT_EQ(twice.first, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(twice.second, HasSubstr("named twice"));
  auto self = code(EnsembleStart("zest_cb", {{"zest_cb", 1}, {"lin_cb", 1}}));
  EXPECT_EQ(self.first, grpc::StatusCode::INVALID_ARGUMENT);
  auto uncalibrated = code(EnsembleStart("e", {{"zest_cb", 1}, {"lin_cb", 1}}, v1::EnsembleConfig::STACKING));
  EXPECT_EQ(uncalibrated.first, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(uncalibrated.second, HasSubstr("CALIBRATION"));

  // Members with other classes: a model trained on a relabelled slice.
  Labeled other = ClickbaitSlice(100);
  for (auto& label : other.labels) label = label == "news" ? "report" : label;
  ASSERT_TRUE(Train(stub, LinearStart("other"), other).status.ok());
  auto classes = code(EnsembleStart("e", {{"zest_cb", 1}, {"other", 1}}));
  EXPECT_EQ(classes.first, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(classes.second, HasSubstr("has no class \"news\""));

  ASSERT_TRUE(TrainWithSplits(stub, EnsembleStart("inner", {{"zest_cb", 1}, {"lin_cb", 1}}), {}).status.ok());
  auto nested = code(EnsembleStart("e", {{"inner", 1}, {"lin_cb", 1}}));
  EXPECT_EQ(nested.first, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(nested.second, HasSubstr("is an ensemble"));
  auto info = GetModel(stub, "e");
  EXPECT_EQ(info.status.error_code(), grpc::StatusCode::NOT_FOUND) << "no refused ensemble left a version behind";
}

}  // namespace
}  // namespace textclf::testing
