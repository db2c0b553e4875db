// Counts a driver's requests in flight so that a step ends only after every callback has run
// (the callbacks reference the driver, the plan and the sender).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace textclf::loadgen {

class InFlightCounter {
 public:
  void Add(int n = 1) {
    std::lock_guard lock(mu_);
    count_ += n;
  }
  void Done() {
    std::lock_guard lock(mu_);
    if (--count_ == 0) zero_.notify_all();
  }
  // True when the count reached zero before `timeout`.
  bool WaitForZero(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return zero_.wait_for(lock, timeout, [this] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable zero_;
  int64_t count_ = 0;
};

}  // namespace textclf::loadgen
