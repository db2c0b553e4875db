// A bounded pool for long jobs such as training: at most `max_running` at once, at most
// `max_queued` waiting, and an immediate RESOURCE_EXHAUSTED beyond that instead of an
// unbounded backlog.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace textclf {

class JobPool {
 public:
  // `on_running` (may be empty) hears the number of running jobs whenever it changes.
  JobPool(int max_running, int max_queued, std::function<void(int running)> on_running = {});
  ~JobPool();  // finishes running and queued jobs
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  absl::Status Submit(std::function<void()> job);

  int running() const;
  int queued() const;

 private:
  void Worker();

  const int max_running_;
  const int max_queued_;
  std::function<void(int)> on_running_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace textclf
