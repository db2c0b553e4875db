// Poll mode (--poll-interval): a server picks up versions another process publishes to the shared
// repository, drops what was deleted there, keeps to its version policy, and never meets a
// half-written version, because publishing renames a complete folder into place.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "core/common/files.h"
#include "core/common/proto_json.h"
#include "core/registry/repository.h"
#include "server/server.h"
#include "tests/server/server_test_support.h"
#include "tests/support/fixture_models.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

// Waits until `done` holds, up to `timeout`.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A server in poll mode and a client of it.
struct Polling {
  std::unique_ptr<server::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Classifier::Stub> stub;

  // Version -> state of every version of `model` the server lists; empty when it lists none.
  std::map<int64_t, v1::ModelState> States(const std::string& model) {
    std::map<int64_t, v1::ModelState> states;
    auto info = GetModel(*stub, model);
    if (info.status.ok()) {
      for (const auto& v : info.response.versions()) states[v.version()] = v.state();
    }
    return states;
  }
  std::vector<int64_t> Loaded(const std::string& model) {
    std::vector<int64_t> loaded;
    for (const auto& [v, state] : States(model)) {
      if (state == v1::LOADED) loaded.push_back(v);
    }
    return loaded;
  }
};

class PollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A model trained once, by a server that does not poll, gives the files later versions copy.
    ASSERT_TRUE(CopyFixtureModels(kZestCb, root_.path()));
    auto manifest = writer_.ReadManifest("cb", 1);
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    manifest_ = *manifest;
  }

  Polling StartPolling(std::chrono::milliseconds interval, const std::function<void(v1::ServerConfig&)>& adjust = {}) {
    v1::ServerConfig config = TestConfig(root_.path());
    if (adjust) adjust(config);
    server::ServeOptions options;
    options.poll_interval_s = interval.count() / 1000.0;
    auto started = server::Server::Start(config, options);
    Polling p;
    if (!started.ok()) {
      ADD_FAILURE() << "the server did not start: " << started.status();
      return p;
    }
    p.server = std::move(*started);
    p.channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(p.server->port()), grpc::InsecureChannelCredentials());
    p.stub = v1::Classifier::NewStub(p.channel);
    return p;
  }

  // Publishes a copy of version 1 the way another process sharing the volume would: files
  // written into a staging folder (pausing between files, like a slow writer), then one rename.
  int64_t PublishCopy(std::chrono::milliseconds pause_between_files = std::chrono::milliseconds(0)) {
    auto staging = writer_.CreateStagingDir("cb");
    EXPECT_TRUE(staging.ok()) << staging.status();
    if (!staging.ok()) return 0;
    WriteFilesOfVersion1(*staging, pause_between_files);
    v1::Manifest manifest = manifest_;
    auto published = writer_.Publish(*staging, "cb", manifest);
    EXPECT_TRUE(published.ok()) << published.status();
    return published.ok() ? published->version() : 0;
  }

  void WriteFilesOfVersion1(const fs::path& dir, std::chrono::milliseconds pause_between_files) {
    for (const v1::FileEntry& f : manifest_.files()) {
      auto content = ReadFile(writer_.VersionDir("cb", 1) / f.path());
      ASSERT_TRUE(content.ok()) << content.status();
      fs::create_directories((dir / f.path()).parent_path());
      ASSERT_TRUE(WriteFileDurably(dir / f.path(), *content).ok());
      std::this_thread::sleep_for(pause_between_files);
    }
  }

  TempDir root_;
  // Another process's view of the same repository (never Initialize()d: that is the server's).
  registry::Repository writer_{root_.path()};
  v1::Manifest manifest_;
};

TEST_F(PollTest, LoadsAVersionAnotherProcessPublishedWithinTwoScans) {
  Polling p = StartPolling(std::chrono::milliseconds(100));
  ASSERT_NE(p.server, nullptr);
  ASSERT_THAT(p.Loaded("cb"), ElementsAre(1));

  const int64_t scans_before = p.server->poll_scans();
  const int64_t v2 = PublishCopy();
  ASSERT_EQ(v2, 2);
  ASSERT_TRUE(WaitUntil([&] { return p.Loaded("cb") == std::vector<int64_t>{2}; }))
      << "version 2 was never loaded alone";
  // A scan that was running while the version appeared may miss it; the next one may not.
  EXPECT_LE(p.server->poll_scans() - scans_before, 2);
  ClassifyCall answer = Classify(*p.stub, "cb", {"You won't believe what happened next"});
  ASSERT_TRUE(answer.status.ok()) << Describe(answer.status);
  EXPECT_EQ(answer.response.version(), 2) << "the latest version answers";
}

TEST_F(PollTest, KeepsToTheVersionPolicy) {
  Polling p = StartPolling(std::chrono::milliseconds(50), [](v1::ServerConfig& c) {
    c.mutable_version_policy()->set_latest(2);
  });
  ASSERT_NE(p.server, nullptr);
  ASSERT_EQ(PublishCopy(), 2);
  ASSERT_EQ(PublishCopy(), 3);
  ASSERT_TRUE(WaitUntil([&] { return p.Loaded("cb") == std::vector<int64_t>({2, 3}); }))
      << "loaded: " << ::testing::PrintToString(p.Loaded("cb"));
  EXPECT_EQ(p.States("cb").at(1), v1::AVAILABLE) << "version 1 left the newest two, so it is unloaded";
}

TEST_F(PollTest, UnloadsVersionsAndModelsDeletedByAnotherProcess) {
  Polling p = StartPolling(std::chrono::milliseconds(50));
  ASSERT_NE(p.server, nullptr);
  ASSERT_EQ(PublishCopy(), 2);
  ASSERT_TRUE(WaitUntil([&] { return p.Loaded("cb") == std::vector<int64_t>{2}; }));

  // Taking back the newest version brings the one before back into service.
  ASSERT_TRUE(writer_.DeleteVersion("cb", 2).ok());
  ASSERT_TRUE(WaitUntil([&] { return p.Loaded("cb") == std::vector<int64_t>{1}; }))
      << "loaded: " << ::testing::PrintToString(p.Loaded("cb"));

  // A model deleted entirely stops answering.
  ASSERT_TRUE(writer_.DeleteVersion("cb", 1).ok());
  ASSERT_FALSE(fs::exists(root_.path() / "cb"));
  ASSERT_TRUE(WaitUntil([&] { return !Classify(*p.stub, "cb", {"hello"}).status.ok(); }))
      << "the deleted model still answers";
  EXPECT_EQ(GetModel(*p.stub, "cb").status.error_code(), grpc::StatusCode::NOT_FOUND);
}

// Records every state a watcher sees while `write` runs, through GetModel in a loop.
std::vector<std::string> FailuresSeenWhile(Polling& p, const std::function<void()>& write) {
  std::atomic<bool> writing{true};
  std::vector<std::string> failures;
  std::thread watcher([&] {
    while (writing.load()) {
      auto info = GetModel(*p.stub, "cb");
      if (!info.status.ok()) continue;
      for (const auto& v : info.response.versions()) {
        if (v.state() == v1::FAILED) failures.push_back(std::to_string(v.version()) + ": " + v.state_message());
      }
    }
  });
  write();
  writing = false;
  watcher.join();
  return failures;
}

TEST_F(PollTest, NeverSeesAHalfWrittenVersionWhilePublishingGoesOn) {
  Polling p = StartPolling(std::chrono::milliseconds(5));
  ASSERT_NE(p.server, nullptr);
  const auto failures = FailuresSeenWhile(p, [&] {
    for (int i = 0; i < 4; ++i) PublishCopy(std::chrono::milliseconds(40));
  });
  EXPECT_THAT(failures, ::testing::IsEmpty());
  ASSERT_TRUE(WaitUntil([&] { return p.Loaded("cb") == std::vector<int64_t>{5}; }))
      << "loaded: " << ::testing::PrintToString(p.Loaded("cb"));
  EXPECT_GT(p.server->poll_scans(), 10) << "the polls really ran while the versions were written";
}

// The control for the test above: the same writer putting files straight into a version folder
// (manifest first) is caught half-way, so a clean run above means something.
TEST_F(PollTest, WouldSeeAVersionWrittenInPlaceHalfWritten) {
  Polling p = StartPolling(std::chrono::milliseconds(5));
  ASSERT_NE(p.server, nullptr);
  const auto failures = FailuresSeenWhile(p, [&] {
    const fs::path dir = writer_.VersionDir("cb", 2);
    fs::create_directories(dir);
    v1::Manifest manifest = manifest_;
    manifest.set_version(2);
    ASSERT_TRUE(WriteFileDurably(dir / registry::kManifestFile, ToJson(manifest)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    WriteFilesOfVersion1(dir, std::chrono::milliseconds(0));
  });
  EXPECT_FALSE(failures.empty()) << "no poll met the half-written version";
  // Once complete, a later scan loads it.
  EXPECT_TRUE(WaitUntil([&] { return p.Loaded("cb") == std::vector<int64_t>{2}; }));
}

TEST_F(PollTest, AStartingReplicaLeavesAnotherWritersPublishInProgressAlone) {
  auto staging = writer_.CreateStagingDir("cb");
  ASSERT_TRUE(staging.ok());
  WriteFilesOfVersion1(*staging, std::chrono::milliseconds(0));
  Polling p = StartPolling(std::chrono::milliseconds(50));
  ASSERT_NE(p.server, nullptr);
  ASSERT_TRUE(fs::exists(*staging)) << "a replica starting on a shared repository wiped it";
  // ...so that writer's publish still succeeds, and the replica serves it.
  auto published = writer_.Publish(*staging, "cb", manifest_);
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_TRUE(WaitUntil([&] { return p.Loaded("cb") == std::vector<int64_t>{2}; }));
}

TEST(PollOptionsTest, ANegativeIntervalIsRefused) {
  TempDir root;
  server::ServeOptions options;
  options.poll_interval_s = -1;
  auto started = server::Server::Start(TestConfig(root.path()), options);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(started.status().message()), ::testing::HasSubstr("poll interval"));
}

}  // namespace
}  // namespace textclf::testing
