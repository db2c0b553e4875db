#include "core/registry/model_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/common/files.h"
#include "tests/core/registry/registry_test_support.h"
#include "tests/support/word_count_family.h"
#include "tests/support/test_support.h"

namespace textclf::registry {
namespace {

class ModelManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(repo_.Initialize().ok()); }
  v1::VersionPolicy Latest(int n) {
    v1::VersionPolicy p;
    p.set_latest(n);
    return p;
  }
  testing::TempDir dir_;
  Repository repo_{dir_.path() / "models"};
};

TEST_F(ModelManagerTest, LoadsTheLatestVersionByDefault) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "a", 2);
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  std::vector<std::string> failures;
  models.ApplyPolicyToAll(&failures);
  EXPECT_TRUE(failures.empty());
  auto model = models.Get("a", 0);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->version(), 2);
  EXPECT_EQ(models.Get("a", 1).status().code(), absl::StatusCode::kFailedPrecondition);
  auto info = models.Describe("a");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->versions(0).state(), v1::AVAILABLE);
  EXPECT_EQ(info->versions(1).state(), v1::LOADED);
}

// Stands in for the serving runtime: hands out one scheduler per loaded version and counts the
// schedulers still alive.
class CountingObserver final : public ModelObserver {
 public:
  struct Scheduler final : VersionScheduler {
    explicit Scheduler(std::atomic<int>* alive) : alive(alive) { ++*alive; }
    ~Scheduler() override { --*alive; }
    absl::Status Score(std::span<const ModelInput>, v1::Priority, std::function<bool()>, ScoreMatrix*) override {
      return absl::UnimplementedError("not served");
    }
    absl::Status Submit(std::span<const ModelInput>, v1::Priority, ScoredFn) override {
      return absl::UnimplementedError("not served");
    }
    std::atomic<int>* alive;
  };
  absl::StatusOr<std::shared_ptr<VersionScheduler>> OnLoaded(const std::shared_ptr<const Model>&, double) override {
    return std::make_shared<Scheduler>(&alive);
  }
  void OnUnloaded(const std::shared_ptr<const Model>&) override { ++unloaded; }
  std::atomic<int> alive{0};
  int unloaded = 0;
};

TEST_F(ModelManagerTest, OneLookupFindsTheVersionAndTheSchedulerItWasLoadedWith) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "a", 2);
  v1::VersionPolicy all;
  all.set_all(true);
  CountingObserver observer;
  ModelManager models(&repo_, &testing::WordCountOnly(), all, &observer);
  std::vector<std::string> failures;
  models.ApplyPolicyToAll(&failures);
  ASSERT_TRUE(failures.empty());
  EXPECT_EQ(observer.alive, 2);
  auto first = models.Find("a", 1);
  auto latest = models.Find("a", 0);
  ASSERT_TRUE(first.ok() && latest.ok());
  EXPECT_EQ(first->model->version(), 1);
  EXPECT_EQ(latest->model->version(), 2);
  ASSERT_NE(first->scheduler, nullptr);
  EXPECT_NE(first->scheduler, latest->scheduler);
  EXPECT_EQ(models.Find("a", 2)->scheduler, latest->scheduler);

  // Unloading leaves a request that holds the version its scheduler, which goes with the last
  // holder; the version no longer answers.
  LoadedVersion in_flight = *std::move(latest);
  ASSERT_TRUE(models.Unload("a", 2).ok());
  EXPECT_EQ(observer.unloaded, 1);
  EXPECT_EQ(observer.alive, 2);
  EXPECT_EQ(models.Find("a", 2).status().code(), absl::StatusCode::kFailedPrecondition);
  in_flight = {};
  EXPECT_EQ(observer.alive, 1);
}

TEST_F(ModelManagerTest, AllPolicyLoadsEveryVersion) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "a", 2);
  v1::VersionPolicy all;
  all.set_all(true);
  ModelManager models(&repo_, &testing::WordCountOnly(), all);
  std::vector<std::string> failures;
  models.ApplyPolicyToAll(&failures);
  EXPECT_TRUE(models.Get("a", 1).ok());
  EXPECT_TRUE(models.Get("a", 2).ok());
}

TEST_F(ModelManagerTest, AModelInUseSurvivesItsUnload) {
  PublishSmallModel(repo_, "a");
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  std::shared_ptr<const Model> in_flight = *models.Get("a", 0);
  ASSERT_TRUE(models.Unload("a", 0).ok());
  EXPECT_EQ(models.Get("a", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  // The request holding it still runs to completion.
  std::string text = "goal striker referee league";
  std::vector<ModelInput> inputs = {{text, nullptr}};
  ScoreMatrix out;
  EXPECT_TRUE(in_flight->Run(inputs, Device{}, &out).ok());
  EXPECT_EQ(out.rows, 1u);
}

TEST_F(ModelManagerTest, NewVersionsReplaceOldOnesUnderThePolicy) {
  PublishSmallModel(repo_, "a");
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  auto old_model = *models.Get("a", 0);
  PublishSmallModel(repo_, "a", 2);
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  EXPECT_EQ((*models.Get("a", 0))->version(), 2);
  EXPECT_EQ(old_model->version(), 1);
  EXPECT_FALSE(models.Get("a", 1).ok());
}

TEST_F(ModelManagerTest, ExplicitLoadAddsAVersion) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "a", 2);
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  ASSERT_TRUE(models.Load("a", 1).ok());
  EXPECT_TRUE(models.Get("a", 1).ok());
  EXPECT_EQ((*models.Get("a", 0))->version(), 2);
  EXPECT_EQ(models.Load("a", 5).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(models.Load("zzz", 0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelManagerTest, ACorruptVersionFailsAloneAndSaysWhy) {
  PublishSmallModel(repo_, "good");
  v1::Manifest bad = PublishSmallModel(repo_, "bad");
  const auto victim = repo_.VersionDir("bad", 1) / bad.files(0).path();
  std::string content = *ReadFile(victim);
  content[0] ^= 1;
  ASSERT_TRUE(WriteFileDurably(victim, content).ok());
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  std::vector<std::string> failures;
  models.ApplyPolicyToAll(&failures);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find(bad.files(0).path()), std::string::npos);
  EXPECT_TRUE(models.Get("good", 0).ok());
  auto get_bad = models.Get("bad", 1);
  EXPECT_EQ(get_bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(get_bad.status().message().find("corrupt"), std::string_view::npos);
  auto info = models.Describe("bad");
  EXPECT_EQ(info->versions(0).state(), v1::FAILED);
  EXPECT_EQ(*ReadFile(victim), content);  // nothing was "repaired" behind the user's back
}

TEST_F(ModelManagerTest, DeleteUnloadsAndRemoves) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "a", 2);
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(2));
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  EXPECT_EQ(*models.Delete("a", 1), (std::vector<int64_t>{1}));
  EXPECT_FALSE(models.Get("a", 1).ok());
  EXPECT_TRUE(models.Get("a", 2).ok());
  EXPECT_EQ(*models.Delete("a", 0), (std::vector<int64_t>{2}));
  EXPECT_EQ(models.Get("a", 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(models.List()->empty());
}

TEST_F(ModelManagerTest, UnknownModelsAreNotFound) {
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  EXPECT_EQ(models.Get("nope", 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(models.Describe("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(models.Get("../x", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ModelManagerTest, UnboundedNamesAreRefusedBeforeAnyLookup) {
  PublishSmallModel(repo_, "a");
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  const std::string huge(8 << 20, 'n');
  EXPECT_EQ(models.Get(huge, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(models.Load(huge, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(models.Unload(huge, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(models.Delete(huge, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(models.Describe(huge).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(models.ApplyPolicy(huge).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(models.LoadDetached(huge, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(models.Load(huge, 0).status().message().size(), 200u);
  EXPECT_EQ(models.model_lock_count(), 0u);
}

TEST_F(ModelManagerTest, NamesWithoutAModelLeaveNoLockBehind) {
  PublishSmallModel(repo_, "a");
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  for (int i = 0; i < 1000; ++i) {
    const std::string name = "nosuch-" + std::to_string(i);
    EXPECT_EQ(models.Load(name, 0).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(models.Unload(name, 0).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(models.Delete(name, 0).status().code(), absl::StatusCode::kNotFound);
    (void)models.ApplyPolicy(name);
  }
  ASSERT_TRUE(models.Load("a", 0).ok());
  ASSERT_TRUE(models.Unload("a", 0).ok());
  EXPECT_EQ(models.model_lock_count(), 0u);
}

TEST_F(ModelManagerTest, AModelDeletedEntirelyAndTrainedAgainGetsANewNumber) {
  PublishSmallModel(repo_, "a");
  PublishSmallModel(repo_, "a", 2);
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  ASSERT_EQ(*models.Delete("a", 0), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(models.Describe("a").status().code(), absl::StatusCode::kNotFound);
  // A client pinned to version 1 or 2 must never get this other model under that number.
  EXPECT_EQ(PublishSmallModel(repo_, "a", 3).version(), 3);
  ASSERT_TRUE(models.ApplyPolicy("a").ok());
  EXPECT_EQ(models.Get("a", 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*models.Get("a", 0))->version(), 3);
}

TEST_F(ModelManagerTest, AFifoModelFileFailsItsVersionAndTheModelCanStillBeDeleted) {
  PublishSmallModel(repo_, "good");
  v1::Manifest bad = PublishSmallModel(repo_, "bad");
  const auto victim = repo_.VersionDir("bad", 1) / bad.files(0).path();
  std::filesystem::remove(victim);
  ASSERT_EQ(::mkfifo(victim.c_str(), 0644), 0);
  ModelManager models(&repo_, &testing::WordCountOnly(), Latest(1));
  auto run = std::async(std::launch::async, [&] {
    std::vector<std::string> failures;
    models.ApplyPolicyToAll(&failures);
    auto deleted = models.Delete("bad", 0);
    return std::make_pair(failures, deleted.status());
  });
  if (run.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "loading blocked on the FIFO";
    for (int i = 0; i < 2; ++i) {  // the load at start, then the one Delete makes
      const int fd = ::open(victim.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  auto [failures, deleted] = run.get();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_THAT(failures[0], ::testing::HasSubstr("not a regular file"));
  EXPECT_TRUE(deleted.ok()) << deleted;
  EXPECT_TRUE(models.Get("good", 0).ok());
}

}  // namespace
}  // namespace textclf::registry
