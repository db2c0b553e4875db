#include "core/common/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
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

// An exception in a chunk (e.g. libtorch's c10::Error on a pool thread) reaches the caller,
// after every chunk has finished, instead of ending the process.
TEST(ThreadPool, AnExceptionInAChunkIsRethrownOnTheCallerAfterEveryChunk) {
  ThreadPool pool(3);
  std::atomic<int> running{0};
  std::atomic<bool> thrown{false};
  try {
    pool.ParallelFor(200, 1, [&](size_t begin, size_t) {
      ++running;
      if (begin == 5) {
        thrown = true;
        --running;
        throw std::runtime_error("chunk 5 failed");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      --running;
    });
    FAIL() << "ParallelFor returned normally";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "chunk 5 failed");
  }
  EXPECT_TRUE(thrown.load());
  EXPECT_EQ(running.load(), 0) << "a chunk still ran when ParallelFor returned";
  // The pool still works.
  std::atomic<int> total{0};
  pool.ParallelFor(100, 3, [&](size_t b, size_t e) { total += static_cast<int>(e - b); });
  EXPECT_EQ(total.load(), 100);
}

TEST(ThreadPool, AThrowingSubmittedTaskDoesNotEndTheWorker) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1);
    pool.Submit([] { throw std::runtime_error("task failed"); });
    for (int i = 0; i < 10; ++i) pool.Submit([&] { ran++; });
  }
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace textclf
