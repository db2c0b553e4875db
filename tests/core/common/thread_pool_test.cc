#include "core/common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace textclf {
namespace {

TEST(ThreadPool, ParallelForVisitsEveryIndexOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> visits(1000);
  pool.ParallelFor(visits.size(), 7, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) visits[i]++;
  });
  for (auto& v : visits) EXPECT_EQ(v.load(), 1);
}

TEST(ThreadPool, NestedParallelForDoesNotDeadlock) {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  pool.ParallelFor(8, 1, [&](size_t, size_t) {
    pool.ParallelFor(8, 1, [&](size_t b, size_t e) { total += static_cast<int>(e - b); });
  });
  EXPECT_EQ(total.load(), 64);
}

TEST(ThreadPool, SubmittedTasksRunBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 50; ++i) pool.Submit([&] { ran++; });
  }
  EXPECT_EQ(ran.load(), 50);
}

}  // namespace
}  // namespace textclf
