// The memory that uploads in progress (Train and Quantize examples buffered before their job
// runs) may hold across the whole server. Each upload charges an Account as its examples arrive
// and gets RESOURCE_EXHAUSTED once the server-wide total would pass the budget; the bytes come
// back when the Account is destroyed, i.e. when the job that used the examples is done.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/status.h"

namespace textclf {

class UploadBudget {
 public:
  explicit UploadBudget(int64_t limit_bytes) : limit_(limit_bytes) {}
  UploadBudget(const UploadBudget&) = delete;
  UploadBudget& operator=(const UploadBudget&) = delete;

  class Account {
   public:
    explicit Account(UploadBudget* budget) : budget_(budget) {}
    ~Account();
    Account(const Account&) = delete;
    Account& operator=(const Account&) = delete;
    // Adds `bytes` to this upload; RESOURCE_EXHAUSTED (and nothing added) past the budget.
    absl::Status Charge(int64_t bytes);
    int64_t bytes() const { return bytes_; }

   private:
    UploadBudget* budget_;
    int64_t bytes_ = 0;
  };

  int64_t limit() const { return limit_; }
  int64_t used() const;

 private:
  const int64_t limit_;
  mutable std::mutex mu_;
  int64_t used_ = 0;
};

}  // namespace textclf
