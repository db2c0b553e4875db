// A fixed pool of CPU worker threads, shared by everything that spreads work over cores
// (classifying a batch, training dictionaries). Worker ids let callers keep per-thread state.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace textclf {

class ThreadPool {
 public:
  // threads <= 0 means one per hardware thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }

  // Runs fn on some worker, later.
  void Submit(std::function<void()> fn);

  // Calls fn(begin, end) over [0, n) in chunks of at most `grain` items, on the pool and on the
  // calling thread, and returns when all chunks are done. Safe to call from inside the pool:
  // the caller helps instead of waiting, so nested calls cannot deadlock. An exception thrown by
  // fn is rethrown here once every chunk has finished (chunks not yet started are skipped).
  void ParallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

  static int HardwareThreads();

 private:
  void WorkerLoop();
  bool RunOneTask();  // runs a queued task on the calling thread, if any
  static void RunGuarded(const std::function<void()>& task);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace textclf
