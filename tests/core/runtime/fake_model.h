// A model for runtime tests: input "k" scores k in column 0, so every result row can be traced
// back to its input; batches are recorded, and can be held back until the test releases them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "core/model/model.h"

namespace textclf::runtime {

class FakeModel final : public Model {
 public:
  explicit FakeModel(std::string name = "fake", int64_t version = 1) : Model(MakeManifest(name, version)) {}

  absl::Status ValidateInput(const ModelInput&) const override { return absl::OkStatus(); }

  absl::Status Run(std::span<const ModelInput> batch, const Device&, ScoreMatrix* out) const override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      batch_sizes_.push_back(batch.size());
      for (const auto& input : batch) computed_.emplace_back(input.text);
      cv_.wait(lock, [this] { return !held_; });
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (fail_) return absl::InternalError("the fake model failed");
    for (const auto& input : batch) {
      if (!fail_on_.empty() && input.text == fail_on_) return absl::InternalError("the fake model failed on " + fail_on_);
      if (!throw_on_.empty() && input.text == throw_on_) throw std::runtime_error("the fake model threw on " + throw_on_);
    }
    out->Resize(batch.size(), 2);
    for (size_t i = 0; i < batch.size(); ++i) {
      double k = 0;
      (void)absl::SimpleAtod(std::string(batch[i].text), &k);
      out->score_row(i)[0] = static_cast<float>(k);
      out->probability_row(i)[0] = 1.0f;
    }
    return absl::OkStatus();
  }

  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  void set_delay(std::chrono::milliseconds d) { delay_ = d; }
  void set_fail(bool fail) { fail_ = fail; }
  // Fails (or throws from) every batch that holds this input.
  void set_fail_on(std::string text) { fail_on_ = std::move(text); }
  void set_throw_on(std::string text) { throw_on_ = std::move(text); }
  std::vector<size_t> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }
  std::vector<std::string> computed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return computed_;
  }

 private:
  static v1::Manifest MakeManifest(const std::string& name, int64_t version) {
    v1::Manifest m;
    m.set_name(name);
    m.set_version(version);
    m.add_classes("a");
    m.add_classes("b");
    return m;
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable std::vector<size_t> batch_sizes_;
  mutable std::vector<std::string> computed_;
  bool held_ = false;
  std::chrono::milliseconds delay_{0};
  bool fail_ = false;
  std::string fail_on_, throw_on_;
};

}  // namespace textclf::runtime
