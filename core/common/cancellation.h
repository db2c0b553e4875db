// A flag that long jobs poll so that a cancelled client stops the work it started.
#pragma once

#include <atomic>
#include <memory>

#include "absl/status/status.h"

namespace textclf {

class CancellationToken {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  absl::Status Check() const {
    return cancelled() ? absl::CancelledError("the job was cancelled") : absl::OkStatus();
  }

 private:
  std::atomic<bool> cancelled_{false};
};

}  // namespace textclf
