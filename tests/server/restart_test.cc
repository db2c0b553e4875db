// A server restarted on the same model root finds every model again: loaded by the version
// policy, with its metrics, answering exactly as before; leftovers of interrupted work go.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::vector<std::string> kTexts = {"Here Is Why Everyone Is Talking About This Sandwich",
                                         "Government announces new rail investment plan",
                                         "17 Things Only Night Owls Understand"};

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestTwoVersions, root_.path()));
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
  }

  v1::ClassifyRequest Request() {
    v1::ClassifyRequest request;
    request.set_model("m");
    for (const auto& t : kTexts) request.add_texts(t);
    request.set_top_k(2);
    request.set_all_scores(true);
    return request;
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(RestartTest, LoadsTheLatestVersionAgainAndAnswersIdentically) {
  ClassifyCall before = Classify(server_->stub(), Request());
  ASSERT_TRUE(before.status.ok()) << Describe(before.status);
  server_->Stop();
  server_ = TestServer::Start(root_.path());
  ASSERT_NE(server_, nullptr);
  EXPECT_THAT(server_->server().load_failures(), IsEmpty());
  auto info = GetModel(server_->stub(), "m");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  EXPECT_THAT(Versions(info.response), ElementsAre(1, 2));
  EXPECT_EQ(FindVersion(info.response, 1)->state(), v1::AVAILABLE);
  EXPECT_EQ(FindVersion(info.response, 2)->state(), v1::LOADED);
  ClassifyCall after = Classify(server_->stub(), Request());
  ASSERT_TRUE(after.status.ok()) << Describe(after.status);
  EXPECT_EQ(after.response.version(), 2);
  ASSERT_EQ(after.response.predictions_size(), before.response.predictions_size());
  for (int i = 0; i < before.response.predictions_size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(after.response.predictions(i), before.response.predictions(i)))
        << kTexts[i];
  }
}

TEST_F(RestartTest, KeepsTheRecordedMetrics) {
  const Labeled held_out = ClickbaitTestSlice(50);
  EvaluateCall eval = Evaluate(server_->stub(), "m", 2, "held-out", held_out);
  ASSERT_TRUE(eval.status.ok()) << Describe(eval.status);
  server_->Stop();
  server_ = TestServer::Start(root_.path());
  ASSERT_NE(server_, nullptr);
  auto info = GetModel(server_->stub(), "m");
  ASSERT_TRUE(info.status.ok()) << Describe(info.status);
  const auto& metrics = FindVersion(info.response, 2)->metrics();
  ASSERT_TRUE(metrics.contains("held-out"));
  EXPECT_EQ(metrics.at("held-out").accuracy(), eval.response.metrics().accuracy());
  EXPECT_EQ(metrics.at("held-out").examples(), 100);
  EXPECT_TRUE(FindVersion(info.response, 1)->metrics().empty());
}

TEST_F(RestartTest, AppliesTheConfiguredVersionPolicy) {
  server_->Stop();
  server_ = TestServer::Start(root_.path(), [](v1::ServerConfig& c) { c.mutable_version_policy()->set_all(true); });
  ASSERT_NE(server_, nullptr);
  auto info = GetModel(server_->stub(), "m");
  ASSERT_TRUE(info.status.ok());
  EXPECT_EQ(FindVersion(info.response, 1)->state(), v1::LOADED);
  EXPECT_EQ(FindVersion(info.response, 2)->state(), v1::LOADED);
  EXPECT_EQ(Classify(server_->stub(), "m", kTexts, 1).response.version(), 1);
}

TEST_F(RestartTest, DropsLeftoversOfInterruptedWorkAndIgnoresFoldersWithoutManifest) {
  server_->Stop();
  fs::create_directories(root_.path() / ".staging" / "m.12345" / "dicts");
  std::ofstream(root_.path() / ".staging" / "m.12345" / "dicts" / "half.zdict") << "partial";
  fs::create_directories(root_.path() / ".trash" / "m.1.999");
  std::ofstream(root_.path() / ".trash" / "m.1.999" / "manifest.json") << "{}";
  fs::create_directories(root_.path() / "m" / "3");
  std::ofstream(root_.path() / "m" / "3" / "notes.txt") << "no manifest here";

  server_ = TestServer::Start(root_.path());
  ASSERT_NE(server_, nullptr);
  EXPECT_THAT(DirEntries(root_.path() / ".staging"), IsEmpty());
  EXPECT_THAT(DirEntries(root_.path() / ".trash"), IsEmpty());
  auto info = GetModel(server_->stub(), "m");
  ASSERT_TRUE(info.status.ok());
  EXPECT_THAT(Versions(info.response), ElementsAre(1, 2));
  EXPECT_TRUE(fs::exists(root_.path() / "m" / "3" / "notes.txt"));  // not the server's to delete
  ClassifyCall latest = Classify(server_->stub(), "m", kTexts);
  ASSERT_TRUE(latest.status.ok()) << Describe(latest.status);
  EXPECT_EQ(latest.response.version(), 2);
}

}  // namespace
}  // namespace textclf::testing
