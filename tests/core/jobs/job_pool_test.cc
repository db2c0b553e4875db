#include "core/jobs/job_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace textclf {
namespace {

TEST(JobPool, RunsAtMostMaxRunningAtOnceAndRejectsBeyondTheQueue) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> running{0}, peak{0}, done{0};
  auto job = [&] {
    int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {}
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    --running;
    ++done;
  };
  {
    JobPool pool(2, 1);
    ASSERT_TRUE(pool.Submit("train", job).ok());
    ASSERT_TRUE(pool.Submit("train", job).ok());
    ASSERT_TRUE(pool.Submit("train", job).ok());  // queued
    absl::Status full = pool.Submit("train", job);
    EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(full.message().find("busy"), std::string_view::npos);
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
  }
  EXPECT_EQ(done.load(), 3);
  EXPECT_LE(peak.load(), 2);
}

// A stream takes its place before its examples arrive: reserved places count against the limits,
// and a place given back (the upload failed) is free again.
TEST(JobPool, ReservedPlacesCountAndComeBackWhenDropped) {
  JobPool pool(1, 1);
  absl::StatusOr<JobPool::Slot> first = pool.Reserve("train");
  absl::StatusOr<JobPool::Slot> second = pool.Reserve("quantize");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(pool.queued(), 2);
  absl::StatusOr<JobPool::Slot> third = pool.Reserve("train");
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("uploading"), std::string_view::npos) << third.status();
  *second = JobPool::Slot();  // the upload failed: its place is free
  EXPECT_EQ(pool.queued(), 1);
  EXPECT_TRUE(pool.Reserve("train").ok());
  std::atomic<bool> ran{false};
  pool.Submit(std::move(*first), [&] { ran = true; });
  for (int i = 0; i < 500 && !ran.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_TRUE(ran.load());
}

TEST(JobPool, CountsRunningJobsByKindAndSurvivesAThrowingJob) {
  std::mutex mu;
  std::map<std::string, std::vector<int>> seen;
  {
    JobPool pool(1, 4, [&](const std::string& kind, int running) {
      std::lock_guard<std::mutex> lock(mu);
      seen[kind].push_back(running);
    });
    ASSERT_TRUE(pool.Submit("train", [] { throw std::runtime_error("a job failed"); }).ok());
    ASSERT_TRUE(pool.Submit("quantize", [] {}).ok());
  }
  EXPECT_EQ(seen["train"], (std::vector<int>{1, 0}));
  EXPECT_EQ(seen["quantize"], (std::vector<int>{1, 0}));
}

}  // namespace
}  // namespace textclf
