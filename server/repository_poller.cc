#include "server/repository_poller.h"

#include "core/registry/model_manager.h"

namespace textclf::server {

RepositoryPoller::RepositoryPoller(registry::ModelManager* models, std::chrono::milliseconds interval, LogFn log)
    : models_(models), interval_(interval), log_(std::move(log)) {
  thread_ = std::thread([this] { Run(); });
}

RepositoryPoller::~RepositoryPoller() { Stop(); }

void RepositoryPoller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t RepositoryPoller::scans() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scans_;
}

void RepositoryPoller::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  // The server applied the policy once at start, so the first scan waits one interval.
  while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    ScanOnce();
    lock.lock();
    ++scans_;
  }
}

void RepositoryPoller::ScanOnce() {
  std::vector<std::string> failures;
  models_->ApplyPolicyToAll(&failures);
  // A version that cannot load is retried at every scan; its message is logged only when it
  // first appears, so a corrupt version does not flood the log.
  std::set<std::string> now(failures.begin(), failures.end());
  for (const std::string& f : now) {
    if (!reported_.count(f) && log_) log_("poll: model not loaded: " + f);
  }
  for (const std::string& f : reported_) {
    if (!now.count(f) && log_) log_("poll: resolved: " + f);
  }
  reported_ = std::move(now);
}

}  // namespace textclf::server
