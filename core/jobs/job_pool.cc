#include "core/jobs/job_pool.h"

#include "absl/strings/str_cat.h"
#include "core/common/warnings.h"

namespace textclf {

JobPool::Slot::Slot(Slot&& other) noexcept : pool_(other.pool_), kind_(std::move(other.kind_)) {
  other.pool_ = nullptr;
}

JobPool::Slot& JobPool::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr) pool_->Unreserve();
    pool_ = other.pool_;
    kind_ = std::move(other.kind_);
    other.pool_ = nullptr;
  }
  return *this;
}

JobPool::Slot::~Slot() {
  if (pool_ != nullptr) pool_->Unreserve();
}

JobPool::JobPool(int max_running, int max_queued, RunningFn on_running)
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

absl::StatusOr<JobPool::Slot> JobPool::Reserve(std::string kind) {
  std::lock_guard<std::mutex> lock(mu_);
  const int waiting = static_cast<int>(queue_.size()) + reserved_;
  if (running_ + waiting >= max_running_ + max_queued_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server is busy: ", running_, " jobs running and ", waiting,
        " waiting or uploading (limits max_concurrent_jobs ", max_running_, " and max_queued_jobs ", max_queued_,
        "); retry later"));
  }
  ++reserved_;
  return Slot(this, std::move(kind));
}

void JobPool::Unreserve() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --reserved_;
  }
}

void JobPool::Submit(Slot slot, std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --reserved_;
    queue_.push_back(Job{std::move(slot.kind_), std::move(job)});
  }
  slot.pool_ = nullptr;  // its place is the queued job's now
  cv_.notify_one();
}

absl::Status JobPool::Submit(std::string kind, std::function<void()> job) {
  absl::StatusOr<Slot> slot = Reserve(std::move(kind));
  if (!slot.ok()) return slot.status();
  Submit(std::move(*slot), std::move(job));
  return absl::OkStatus();
}

int JobPool::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

int JobPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size()) + reserved_;
}

void JobPool::Worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      const int of_kind = ++running_by_kind_[job.kind];
      if (on_running_) on_running_(job.kind, of_kind);
    }
    // The pool's own barrier; jobs report their failures themselves (see server/job_stream.h).
    try {
      job.run();
    } catch (const std::exception& e) {
      Warn("job_failed", absl::StrCat("a ", job.kind, " job failed: ", e.what()));
    } catch (...) {
      Warn("job_failed", absl::StrCat("a ", job.kind, " job failed with an unknown exception"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
    const int of_kind = --running_by_kind_[job.kind];
    if (on_running_) on_running_(job.kind, of_kind);
  }
}

}  // namespace textclf
