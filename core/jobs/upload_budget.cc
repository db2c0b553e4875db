#include "core/jobs/upload_budget.h"

#include "absl/strings/str_cat.h"

namespace textclf {

UploadBudget::Account::~Account() {
  if (budget_ == nullptr || bytes_ == 0) return;
  std::lock_guard<std::mutex> lock(budget_->mu_);
  budget_->used_ -= bytes_;
}

absl::Status UploadBudget::Account::Charge(int64_t bytes) {
  if (budget_ == nullptr || bytes <= 0) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(budget_->mu_);
  if (budget_->used_ + bytes > budget_->limit_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server holds ", budget_->used_, " bytes of examples of uploads and jobs in progress, and this one would pass "
        "the limit of ", budget_->limit_, " (max_buffered_train_bytes in the server config); retry later or send less"));
  }
  budget_->used_ += bytes;
  bytes_ += bytes;
  return absl::OkStatus();
}

int64_t UploadBudget::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

}  // namespace textclf
