// kill -9 at random points of a publish loop: whatever the moment, the repository the next server
// starts on is consistent: every version folder is complete and loads, nothing half-written is
// visible, and version numbers never go back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <random>
#include <thread>

#include "tests/server/server_test_support.h"
#include "tests/support/server_process.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

namespace fs = std::filesystem;

struct Client {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Classifier::Stub> stub;
  explicit Client(const std::string& address)
      : channel(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        stub(v1::Classifier::NewStub(channel)) {}
};

TEST(CrashConsistency, KillNineDuringPublishesLeavesEveryVersionLoadable) {
  TempDir root;
  const Labeled data = ClickbaitSlice(60);
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  int64_t highest_seen = 0;
  int kills_while_publishing = 0;
  for (int run = 0; run < 8; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    auto server = ServerProcess::Start(TEXTCLF_SERVER_PATH, {"--models", root.path().string(), "--threads", "2"});
    ASSERT_NE(server, nullptr);
    std::atomic<bool> stop{false};
    std::atomic<int> published{0};
    std::thread trainer([&] {
      Client client(server->address());
      while (!stop.load()) {
        if (Train(*client.stub, ZestStart("crash"), data).status.ok()) ++published;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 1500)(rng)));
    if (!DirEntries(root.path() / ".staging").empty()) ++kills_while_publishing;
    server->Signal(SIGKILL);
    EXPECT_EQ(server->WaitForExit(std::chrono::seconds(10)), 128 + SIGKILL);
    stop = true;
    trainer.join();

    // The next server starts on what the kill left, removes leftovers and loads every version.
    auto next = ServerProcess::Start(TEXTCLF_SERVER_PATH, {"--models", root.path().string(), "--threads", "2"});
    ASSERT_NE(next, nullptr);
    Client client(next->address());
    EXPECT_THAT(DirEntries(root.path() / ".staging"), ::testing::IsEmpty());
    auto info = GetModel(*client.stub, "crash");
    if (!info.status.ok()) {
      EXPECT_EQ(info.status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(info.status);
      EXPECT_EQ(highest_seen, 0) << "versions vanished";
      continue;
    }
    for (const v1::VersionInfo& v : info.response.versions()) {
      EXPECT_NE(v.state(), v1::FAILED) << "version " << v.version() << ": " << v.state_message();
      EXPECT_TRUE(fs::exists(root.path() / "crash" / std::to_string(v.version()) / "manifest.json"));
      auto loaded = LoadModel(*client.stub, "crash", v.version());
      EXPECT_TRUE(loaded.status.ok()) << "version " << v.version() << ": " << Describe(loaded.status);
    }
    std::vector<int64_t> versions = Versions(info.response);
    ASSERT_FALSE(versions.empty());
    EXPECT_GE(versions.back(), highest_seen) << "the newest version went back";
    highest_seen = versions.back();
    // The versions still answer.
    EXPECT_TRUE(Classify(*client.stub, "crash", {"You won't believe what happened next"}).status.ok());
  }
  EXPECT_GT(highest_seen, 0) << "no run published anything";
  RecordProperty("kills_while_publishing", kills_while_publishing);
}

}  // namespace
}  // namespace textclf
