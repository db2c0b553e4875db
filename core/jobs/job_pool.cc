#include "core/jobs/job_pool.h"

#include "absl/strings/str_cat.h"

namespace textclf {

JobPool::JobPool(int max_running, int max_queued, std::function<void(int running)> on_running)
    : max_running_(max_running < 1 ? 1 : max_running),
      max_queued_(max_queued < 0 ? 0 : max_queued),
      on_running_(std::move(on_running)) {
  for (int i = 0; i < max_running_; ++i) threads_.emplace_back([this] { Worker(); });
}

JobPool::~JobPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

absl::Status JobPool::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int waiting = static_cast<int>(queue_.size());
    if (running_ + waiting >= max_running_ + max_queued_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the server is busy: ", running_, " jobs running and ", waiting,
          " waiting (limits ", max_running_, " and ", max_queued_, "); retry later"));
    }
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return absl::OkStatus();
}

int JobPool::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

int JobPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

void JobPool::Worker() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      if (on_running_) on_running_(running_);
    }
    job();
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    if (on_running_) on_running_(running_);
  }
}

}  // namespace textclf
