// The registry's side of ensembles: versions that serve through other versions. Members load
// first, stay loaded beyond the policy while an ensemble holds them, cannot be unloaded or
// deleted from under it (FAILED_PRECONDITION naming it, nothing changed), and go back to the
// policy once it is gone. Manifests that could close a cycle of locks are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "core/ensemble/ensemble_family.h"
#include "core/registry/model_manager.h"
#include "tests/core/registry/registry_test_support.h"
#include "tests/support/test_support.h"
#include "tests/support/word_count_family.h"

namespace textclf::registry {
namespace {

using ::testing::HasSubstr;

const FamilyTable& WordCountAndEnsembles() {
  static const FamilyTable table({testing::WordCountFamily(), ensemble::EnsembleFamily()});
  return table;
}

class ModelDependenciesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(repo_.Initialize().ok()); }

  // Publishes an averaging ensemble of `members` (classes taken from the first one's manifest).
  v1::Manifest PublishEnsemble(const std::string& name, std::vector<std::pair<std::string, int64_t>> members) {
    v1::Manifest manifest;
    manifest.set_family(v1::ENSEMBLE);
    auto first = repo_.ReadManifest(members.front().first, members.front().second);
    if (first.ok()) *manifest.mutable_classes() = first->classes();
    v1::EnsembleConfig* config = manifest.mutable_ensemble()->mutable_resolved();
    config->set_combination(v1::EnsembleConfig::AVERAGE);
    for (const auto& [member, version] : members) {
      v1::ModelReference* ref = config->add_members();
      ref->set_name(member);
      ref->set_version(version);
    }
    *manifest.mutable_config()->mutable_ensemble() = *config;
    auto published = repo_.Publish(*repo_.CreateStagingDir(name), name, manifest);
    EXPECT_TRUE(published.ok()) << published.status();
    return *published;
  }

  v1::ModelState StateOf(const ModelManager& models, const std::string& name, int64_t version) {
    for (const auto& s : models.States()) {
      if (s.model == name && s.version == version) return s.state;
    }
    return v1::AVAILABLE;
  }

  v1::VersionPolicy latest_one_ = [] {
    v1::VersionPolicy p;
    p.set_latest(1);
    return p;
  }();
  testing::TempDir dir_;
  Repository repo_{dir_.path() / "models"};
};

TEST_F(ModelDependenciesTest, AnEnsembleHoldsItsMembersUntilItGoes) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "b", 2);
  PublishEnsemble("ens", {{"a", 1}, {"b", 1}});
  ModelManager models(&repo_, &WordCountAndEnsembles(), latest_one_);
  ASSERT_TRUE(models.ApplyPolicy("ens").ok());
  EXPECT_EQ(StateOf(models, "a", 1), v1::LOADED) << "members load with the ensemble";
  EXPECT_EQ(StateOf(models, "b", 1), v1::LOADED);

  // It serves the mean of its members (no runtime here: they run on the calling thread).
  std::string text = "goal striker referee league";
  std::vector<ModelInput> inputs = {{text, nullptr}};
  ScoreMatrix ens, a, b;
  ASSERT_TRUE((*models.Get("ens", 0))->Run(inputs, Device{}, &ens).ok());
  ASSERT_TRUE((*models.Get("a", 0))->Run(inputs, Device{}, &a).ok());
  ASSERT_TRUE((*models.Get("b", 0))->Run(inputs, Device{}, &b).ok());
  for (size_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(ens.probability_row(0)[c], (a.probability_row(0)[c] + b.probability_row(0)[c]) / 2, 1e-6);
  }

  // A newer member version is served; the pinned one stays beside it.
  PublishSmallModel(repo_, "a", 3);
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  EXPECT_EQ((*models.Get("a", 0))->version(), 2);
  EXPECT_EQ(StateOf(models, "a", 1), v1::LOADED);

  // Neither unloaded nor deleted from under the ensemble; the refusal changes nothing.
  auto unload = models.Unload("a", 1);
  EXPECT_EQ(unload.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unload.status().message(), HasSubstr("ensemble \"ens\" version 1, which is loaded"));
  EXPECT_EQ(models.Unload("b", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(models.Delete("a", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*repo_.ListVersions("a"), (std::vector<int64_t>{1, 2})) << "a refused delete removes no version";
  EXPECT_TRUE(models.Delete("a", 2).ok()) << "a version no ensemble names can go";

  // Unloaded, the ensemble lets go; deleted, its members are ordinary versions again.
  ASSERT_TRUE(models.Unload("ens", 0).ok());
  EXPECT_EQ(StateOf(models, "b", 1), v1::LOADED) << "b's latest version under the policy";
  auto on_disk = models.Delete("b", 1);
  EXPECT_EQ(on_disk.status().code(), absl::StatusCode::kFailedPrecondition) << "a published ensemble still names it";
  EXPECT_THAT(on_disk.status().message(), HasSubstr("member of ensemble \"ens\" version 1; delete"));
  ASSERT_TRUE(models.Delete("ens", 0).ok());
  EXPECT_TRUE(models.Delete("b", 1).ok());
  EXPECT_TRUE(models.Delete("a", 1).ok());
}

TEST_F(ModelDependenciesTest, PolicyReleasesAMemberOnceTheEnsembleUnloads) {
  PublishSmallModel(repo_, "a");
  PublishEnsemble("ens", {{"a", 1}, {"a", 1}});
  PublishSmallModel(repo_, "a", 2);
  ModelManager models(&repo_, &WordCountAndEnsembles(), latest_one_);
  std::vector<std::string> failures;
  models.ApplyPolicyToAll(&failures);
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(StateOf(models, "a", 1), v1::LOADED);
  EXPECT_EQ(StateOf(models, "a", 2), v1::LOADED);
  ASSERT_TRUE(models.Unload("ens", 1).ok());
  EXPECT_EQ(StateOf(models, "a", 1), v1::AVAILABLE) << "not the policy's, no longer held";
  EXPECT_EQ(StateOf(models, "a", 2), v1::LOADED);
}

TEST_F(ModelDependenciesTest, ManifestsThatCouldDeadlockOrDanglingMembersFailAlone) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "b");
  PublishEnsemble("inner", {{"a", 1}, {"b", 1}});
  PublishEnsemble("nested", {{"inner", 1}, {"a", 1}});
  PublishEnsemble("self", {{"a", 1}, {"self", 1}});
  PublishEnsemble("dangling", {{"a", 1}, {"b", 9}});
  PublishEnsemble("unpinned", {{"a", 1}, {"b", 0}});
  ModelManager models(&repo_, &WordCountAndEnsembles(), latest_one_);
  std::vector<std::string> failures;
  // Run beside itself: a cycle of locks would hang here.
  std::thread other([&] {
    std::vector<std::string> ignored;
    models.ApplyPolicyToAll(&ignored);
  });
  models.ApplyPolicyToAll(&failures);
  other.join();
  EXPECT_EQ(failures.size(), 4u);
  auto message = [&](const std::string& name) { return std::string(models.Get(name, 1).status().message()); };
  EXPECT_THAT(message("nested"), HasSubstr("itself an ensemble"));
  EXPECT_THAT(message("self"), HasSubstr("itself"));
  EXPECT_THAT(message("dangling"), HasSubstr("version 9 of model \"b\""));
  EXPECT_THAT(message("unpinned"), HasSubstr("no version"));
  EXPECT_EQ(StateOf(models, "inner", 1), v1::LOADED);
  EXPECT_EQ(StateOf(models, "a", 1), v1::LOADED);
  // An ensemble has no files to load from without the registry.
  EXPECT_EQ(ensemble::EnsembleFamily()->load(*repo_.ReadManifest("inner", 1), ModelFiles{}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace textclf::registry
