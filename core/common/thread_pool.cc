#include "core/common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>

#include "core/common/warnings.h"

namespace textclf {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = HardwareThreads();
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::HardwareThreads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

void ThreadPool::Submit(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    RunGuarded(task);
  }
}

void ThreadPool::RunGuarded(const std::function<void()>& task) {
  // The last barrier of a worker thread: an exception that escaped a task would end the process.
  // ParallelFor's chunks catch their own and hand them to the caller; this catches the rest.
  try {
    task();
  } catch (const std::exception& e) {
    Warn("pool_task_failed", e.what());
  } catch (...) {
    Warn("pool_task_failed", "unknown exception");
  }
}

bool ThreadPool::RunOneTask() {
  std::function<void()> task;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tasks_.empty()) return false;
    task = std::move(tasks_.front());
    tasks_.pop_front();
  }
  RunGuarded(task);
  return true;
}

void ThreadPool::ParallelFor(size_t n, size_t grain,
                             const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  const size_t chunks = (n + grain - 1) / grain;
  if (chunks == 1) {
    fn(0, n);
    return;
  }
  // Chunks are claimed from a shared counter, so a slow worker never holds up the rest.
  // A chunk that throws counts as done, and the first exception is rethrown on the caller once
  // every chunk is: helpers still use `fn`, so the caller must not leave early, and an exception
  // on a pool thread would end the process. Chunks not started after a failure are skipped.
  struct Shared {
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<bool> failed{false};
    std::exception_ptr error;  // under mu
  };
  auto shared = std::make_shared<Shared>();
  auto run_chunks = [shared, n, grain, chunks, &fn] {
    for (;;) {
      size_t c = shared->next.fetch_add(1);
      if (c >= chunks) return;
      size_t begin = c * grain;
      if (!shared->failed.load()) {  // after a failure the rest is claimed and skipped
        try {
          fn(begin, std::min(n, begin + grain));
        } catch (...) {
          std::lock_guard<std::mutex> lock(shared->mu);
          if (!shared->error) shared->error = std::current_exception();
          shared->failed.store(true);
        }
      }
      if (shared->done.fetch_add(1) + 1 == chunks) {
        std::lock_guard<std::mutex> lock(shared->mu);
        shared->cv.notify_all();
      }
    }
  };
  const size_t helpers = std::min<size_t>(chunks - 1, workers_.size());
  for (size_t i = 0; i < helpers; ++i) Submit(run_chunks);
  run_chunks();
  // Help with other queued work while our last chunks finish elsewhere: a caller that is
  // itself a pool worker must not sleep on work that only it could run.
  while (shared->done.load() < chunks) {
    if (RunOneTask()) continue;
    std::unique_lock<std::mutex> lock(shared->mu);
    shared->cv.wait_for(lock, std::chrono::milliseconds(1),
                        [&] { return shared->done.load() >= chunks; });
  }
  std::lock_guard<std::mutex> lock(shared->mu);
  if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace textclf
