#include "core/jobs/job_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

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
    ASSERT_TRUE(pool.Submit(job).ok());
    ASSERT_TRUE(pool.Submit(job).ok());
    ASSERT_TRUE(pool.Submit(job).ok());  // queued
    absl::Status full = pool.Submit(job);
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

}  // namespace
}  // namespace textclf
