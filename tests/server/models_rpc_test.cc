// Model management through the real server: versions, the default version policy (latest 1),
// LoadModel, UnloadModel, DeleteModel and ListModels, checked in the API and on disk.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<std::string> kTexts = {"You Have To See These Adorable Puppies",
                                         "Central bank raises interest rates again"};

class ModelsRpcTest : public ::testing::Test {
 protected:
  // "m" versions 1 and 2, trained once per CTest run (fixture_recipes.h).
  void SetUp() override {
    ASSERT_TRUE(CopyFixtureModels(kZestTwoVersions, root_.path()));
    server_ = TestServer::Start(root_.path());
    ASSERT_NE(server_, nullptr);
  }

  v1::ModelState State(int64_t version) {
    auto info = GetModel(server_->stub(), "m");
    EXPECT_TRUE(info.status.ok()) << Describe(info.status);
    const v1::VersionInfo* v = FindVersion(info.response, version);
    return v == nullptr ? v1::STATE_UNSPECIFIED : v->state();
  }

  TempDir root_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ModelsRpcTest, ASecondTrainingPublishesVersionTwoAndTheDefaultPolicyServesOnlyIt) {
  EXPECT_THAT(DirEntries(root_.path() / "m"), ElementsAre("1", "2"));
  EXPECT_EQ(State(1), v1::AVAILABLE);
  EXPECT_EQ(State(2), v1::LOADED);
  ClassifyCall latest = Classify(server_->stub(), "m", kTexts, 0);
  ASSERT_TRUE(latest.status.ok()) << Describe(latest.status);
  EXPECT_EQ(latest.response.version(), 2);
  ClassifyCall old = Classify(server_->stub(), "m", kTexts, 1);
  EXPECT_EQ(old.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(old.status);
  EXPECT_THAT(old.status.error_message(), HasSubstr("version 1 is not loaded"));
}

TEST_F(ModelsRpcTest, LoadModelServesAnOlderVersionBesideTheLatest) {
  auto loaded = LoadModel(server_->stub(), "m", 1);
  ASSERT_TRUE(loaded.status.ok()) << Describe(loaded.status);
  ASSERT_NE(FindVersion(loaded.response, 1), nullptr);
  EXPECT_EQ(FindVersion(loaded.response, 1)->state(), v1::LOADED);
  EXPECT_EQ(FindVersion(loaded.response, 2)->state(), v1::LOADED);
  ClassifyCall old = Classify(server_->stub(), "m", kTexts, 1);
  ASSERT_TRUE(old.status.ok()) << Describe(old.status);
  EXPECT_EQ(old.response.version(), 1);
  ASSERT_EQ(old.response.predictions_size(), 2);
  ClassifyCall latest = Classify(server_->stub(), "m", kTexts, 0);
  ASSERT_TRUE(latest.status.ok()) << Describe(latest.status);
  EXPECT_EQ(latest.response.version(), 2);
}

TEST_F(ModelsRpcTest, LoadModelWithoutVersionLoadsTheLatestOnDisk) {
  ASSERT_TRUE(UnloadModel(server_->stub(), "m", 0).status.ok());
  auto loaded = LoadModel(server_->stub(), "m", 0);
  ASSERT_TRUE(loaded.status.ok()) << Describe(loaded.status);
  EXPECT_EQ(FindVersion(loaded.response, 2)->state(), v1::LOADED);
  EXPECT_EQ(FindVersion(loaded.response, 1)->state(), v1::AVAILABLE);
}

TEST_F(ModelsRpcTest, LoadModelRefusesUnknownModelsAndVersions) {
  auto model = LoadModel(server_->stub(), "nosuch", 0);
  EXPECT_EQ(model.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(model.status);
  auto version = LoadModel(server_->stub(), "m", 5);
  EXPECT_EQ(version.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(version.status);
  EXPECT_THAT(version.status.error_message(), HasSubstr("has no version 5"));
  auto negative = LoadModel(server_->stub(), "m", -1);
  EXPECT_EQ(negative.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(negative.status);
}

TEST_F(ModelsRpcTest, UnloadModelStopsServingAVersionButKeepsItOnDisk) {
  ASSERT_TRUE(LoadModel(server_->stub(), "m", 1).status.ok());
  auto unloaded = UnloadModel(server_->stub(), "m", 2);
  ASSERT_TRUE(unloaded.status.ok()) << Describe(unloaded.status);
  EXPECT_EQ(FindVersion(unloaded.response, 2)->state(), v1::AVAILABLE);
  EXPECT_EQ(FindVersion(unloaded.response, 1)->state(), v1::LOADED);
  ClassifyCall latest = Classify(server_->stub(), "m", kTexts, 0);  // the latest loaded now is 1
  ASSERT_TRUE(latest.status.ok()) << Describe(latest.status);
  EXPECT_EQ(latest.response.version(), 1);

  auto all = UnloadModel(server_->stub(), "m", 0);
  ASSERT_TRUE(all.status.ok()) << Describe(all.status);
  EXPECT_EQ(State(1), v1::AVAILABLE);
  EXPECT_EQ(State(2), v1::AVAILABLE);
  ClassifyCall none = Classify(server_->stub(), "m", kTexts, 0);
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(none.status);
  EXPECT_THAT(DirEntries(root_.path() / "m"), ElementsAre("1", "2"));
}

TEST_F(ModelsRpcTest, UnloadModelRefusesAnUnknownVersion) {
  auto unknown = UnloadModel(server_->stub(), "m", 3);
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(unknown.status);
  EXPECT_EQ(State(2), v1::LOADED);
}

TEST_F(ModelsRpcTest, DeleteModelRemovesOneVersionFromTheApiAndTheDisk) {
  auto deleted = DeleteModel(server_->stub(), "m", 1);
  ASSERT_TRUE(deleted.status.ok()) << Describe(deleted.status);
  EXPECT_THAT(deleted.response.deleted_versions(), ElementsAre(1));
  EXPECT_THAT(DirEntries(root_.path() / "m"), ElementsAre("2"));
  auto info = GetModel(server_->stub(), "m");
  ASSERT_TRUE(info.status.ok());
  EXPECT_THAT(Versions(info.response), ElementsAre(2));
  ClassifyCall latest = Classify(server_->stub(), "m", kTexts);
  ASSERT_TRUE(latest.status.ok()) << Describe(latest.status);
  EXPECT_EQ(latest.response.version(), 2);
  EXPECT_EQ(Classify(server_->stub(), "m", kTexts, 1).status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ModelsRpcTest, DeleteModelWithoutVersionRemovesEveryVersion) {
  auto deleted = DeleteModel(server_->stub(), "m", 0);
  ASSERT_TRUE(deleted.status.ok()) << Describe(deleted.status);
  EXPECT_THAT(deleted.response.deleted_versions(), ElementsAre(1, 2));
  EXPECT_FALSE(fs::exists(root_.path() / "m"));
  EXPECT_EQ(GetModel(server_->stub(), "m").status.error_code(), grpc::StatusCode::NOT_FOUND);
  auto list = ListModels(server_->stub());
  ASSERT_TRUE(list.status.ok());
  EXPECT_EQ(list.response.models_size(), 0);
  EXPECT_EQ(Classify(server_->stub(), "m", kTexts).status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(DirEntries(root_.path() / ".trash").empty());
}

TEST_F(ModelsRpcTest, DeleteModelRefusesUnknownModelsAndVersions) {
  EXPECT_EQ(DeleteModel(server_->stub(), "nosuch", 0).status.error_code(), grpc::StatusCode::NOT_FOUND);
  auto version = DeleteModel(server_->stub(), "m", 4);
  EXPECT_EQ(version.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(version.status);
  EXPECT_THAT(DirEntries(root_.path() / "m"), ElementsAre("1", "2"));
}

// The policy keeps the newest version loaded; once the newest is deleted, that is version 1.
TEST_F(ModelsRpcTest, DeletingTheLatestVersionServesThePreviousOne) {
  auto deleted = DeleteModel(server_->stub(), "m", 2);
  ASSERT_TRUE(deleted.status.ok()) << Describe(deleted.status);
  EXPECT_THAT(DirEntries(root_.path() / "m"), ElementsAre("1"));
  EXPECT_EQ(State(1), v1::LOADED);
  ClassifyCall latest = Classify(server_->stub(), "m", kTexts);
  EXPECT_TRUE(latest.status.ok()) << Describe(latest.status);
  EXPECT_EQ(latest.response.version(), 1);
}

TEST_F(ModelsRpcTest, ListModelsListsEveryModelByName) {
  ASSERT_TRUE(Train(server_->stub(), ZestStart("a-first"), ClickbaitSlice(100)).status.ok());
  auto list = ListModels(server_->stub());
  ASSERT_TRUE(list.status.ok()) << Describe(list.status);
  ASSERT_EQ(list.response.models_size(), 2);
  EXPECT_EQ(list.response.models(0).name(), "a-first");
  EXPECT_EQ(list.response.models(1).name(), "m");
  EXPECT_THAT(Versions(list.response.models(0)), ElementsAre(1));
  EXPECT_THAT(Versions(list.response.models(1)), ElementsAre(1, 2));
  for (const auto& model : list.response.models()) {
    EXPECT_EQ(model.family(), v1::ZEST);
    EXPECT_THAT(model.classes(), ElementsAre("clickbait", "news"));
    for (const auto& v : model.versions()) {
      EXPECT_GT(v.size_bytes(), 0u);
      EXPECT_GT(v.created_at().seconds(), 0);
      EXPECT_TRUE(v.config().has_zest());
    }
  }
}

TEST_F(ModelsRpcTest, UnboundedModelNamesAreInvalidArgumentEverywhere) {
  const std::string huge(8 << 20, 'm');
  for (const grpc::Status& s : {GetModel(server_->stub(), huge).status, LoadModel(server_->stub(), huge, 0).status,
                                UnloadModel(server_->stub(), huge, 0).status,
                                DeleteModel(server_->stub(), huge, 0).status,
                                Classify(server_->stub(), huge, kTexts).status}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_LT(s.error_message().size(), 300u);
  }
  EXPECT_EQ(GetModel(server_->stub(), "a/b").status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ModelsRpcTest, AModelDeletedAndTrainedAgainNeverReusesAVersionNumber) {
  ASSERT_TRUE(DeleteModel(server_->stub(), "m", 2).status.ok());
  TrainCall third = Train(server_->stub(), ZestStart("m"), ClickbaitSlice(100, 240));
  ASSERT_TRUE(third.status.ok()) << Describe(third.status);
  EXPECT_EQ(third.result.version(), 3);
  ASSERT_TRUE(DeleteModel(server_->stub(), "m", 0).status.ok());
  // Restarted, on the same repository: the numbers are remembered on disk.
  server_->Stop();
  server_ = TestServer::Start(root_.path());
  ASSERT_NE(server_, nullptr);
  TrainCall fourth = Train(server_->stub(), ZestStart("m"), ClickbaitSlice(100, 340));
  ASSERT_TRUE(fourth.status.ok()) << Describe(fourth.status);
  EXPECT_EQ(fourth.result.version(), 4);
  // A client pinned to an old version hears that it is gone, not another model's answer.
  for (int64_t old : {1, 2, 3}) {
    EXPECT_EQ(Classify(server_->stub(), "m", kTexts, old).status.error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

}  // namespace
}  // namespace textclf::testing
