// Many clients classifying while a new version trains and is swapped in: no request fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "tests/server/server_test_support.h"
#include "tests/support/test_support.h"

namespace textclf::testing {
namespace {

TEST(ConcurrencyTest, EightClientsClassifyWithoutFailuresWhileANewVersionIsSwappedIn) {
  TempDir root;
  auto server = TestServer::Start(root.path(), [](v1::ServerConfig& c) { c.set_threads(4); });
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Train(server->stub(), ZestStart("live"), ClickbaitSlice(150)).status.ok());
  const Labeled& test = Clickbait().test;

  std::atomic<bool> trained{false};
  std::mutex mu;
  std::vector<std::string> failures;
  std::set<std::string> request_ids;
  std::map<int64_t, int> by_version;
  int total = 0;
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      int after_swap = 0;
      for (int i = 0; after_swap < 5; ++i) {
        const bool done_before = trained.load();
        std::vector<std::string> texts;
        for (int k = 0; k < 4; ++k) texts.push_back(test.texts[(t * 997 + i * 4 + k) % test.size()]);
        ClassifyCall call = Classify(server->stub(), "live", texts);
        std::lock_guard<std::mutex> lock(mu);
        ++total;
        if (!call.status.ok()) {
          failures.push_back(Describe(call.status));
        } else if (call.response.predictions_size() != 4) {
          failures.push_back("wrong number of predictions");
        } else {
          request_ids.insert(call.response.request_id());
          ++by_version[call.response.version()];
        }
        if (done_before) ++after_swap;
        if (i > 20000) break;  // a safety net; never reached
      }
    });
  }
  TrainCall second = Train(server->stub(), ZestStart("live"), ClickbaitSlice(2000, 150));
  trained = true;
  for (auto& c : clients) c.join();

  ASSERT_TRUE(second.status.ok()) << Describe(second.status);
  EXPECT_EQ(second.result.version(), 2);
  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_GT(by_version[1], 0) << "no request was answered by version 1";
  EXPECT_GT(by_version[2], 0) << "no request was answered by version 2";
  EXPECT_EQ(static_cast<int>(request_ids.size()), total) << "request ids must be unique";
  auto info = GetModel(server->stub(), "live");
  ASSERT_TRUE(info.status.ok());
  EXPECT_EQ(FindVersion(info.response, 2)->state(), v1::LOADED);
  EXPECT_EQ(FindVersion(info.response, 1)->state(), v1::AVAILABLE);
}

}  // namespace
}  // namespace textclf::testing
