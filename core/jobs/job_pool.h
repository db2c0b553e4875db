// A bounded pool for long jobs (training, quantization): at most `max_running` at once, at most
// `max_queued` waiting, and an immediate RESOURCE_EXHAUSTED beyond that instead of an unbounded
// backlog. A job's place is taken before its data is uploaded (Reserve), so a stream that the
// pool could never run is refused before the server reads, and buffers, its examples.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace textclf {

class JobPool {
 public:
  // `on_running` (may be empty) hears, whenever it changes, how many jobs of a kind run.
  using RunningFn = std::function<void(const std::string& kind, int running)>;

  // A place in the pool held by a job whose data is still arriving; it counts as queued. Given
  // back when destroyed unless it was submitted.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();
    bool valid() const { return pool_ != nullptr; }

   private:
    friend class JobPool;
    Slot(JobPool* pool, std::string kind) : pool_(pool), kind_(std::move(kind)) {}
    JobPool* pool_ = nullptr;
    std::string kind_;
  };

  JobPool(int max_running, int max_queued, RunningFn on_running = {});
  ~JobPool();  // finishes running and queued jobs
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  // A place for a job of `kind` ("train", "quantize"), or RESOURCE_EXHAUSTED when every place
  // is running, queued or reserved.
  absl::StatusOr<Slot> Reserve(std::string kind);
  // Queues the job in its reserved place. The job must not throw: an exception that escapes it
  // is caught and logged, but whoever waits for the job's result learns nothing.
  void Submit(Slot slot, std::function<void()> job);
  // Reserve, then Submit.
  absl::Status Submit(std::string kind, std::function<void()> job);

  int running() const;
  int queued() const;  // queued and reserved

 private:
  struct Job {
    std::string kind;
    std::function<void()> run;
  };
  void Worker();
  void Unreserve();

  const int max_running_;
  const int max_queued_;
  RunningFn on_running_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  int reserved_ = 0;  // slots handed out and not yet submitted
  int running_ = 0;
  std::map<std::string, int> running_by_kind_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace textclf
