#include "core/runtime/prediction_log.h"

namespace textclf::runtime {

PredictionLog::PredictionLog(size_t max_texts, size_t window) : max_texts_(max_texts), window_(window) {}

void PredictionLog::Record(const std::string& request_id, Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  texts_ += entry.predicted.size();
  auto [it, inserted] = entries_.insert_or_assign(request_id, std::move(entry));
  if (inserted) order_.push_back(request_id);
  while (texts_ > max_texts_ && !order_.empty()) {
    auto old = entries_.find(order_.front());
    if (old != entries_.end()) {
      texts_ -= old->second.predicted.size();
      entries_.erase(old);
    }
    order_.pop_front();
  }
}

std::optional<PredictionLog::Entry> PredictionLog::Find(const std::string& request_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(request_id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

double PredictionLog::AddOutcome(const std::string& model, int64_t version, bool correct) {
  std::lock_guard<std::mutex> lock(mu_);
  Window& w = windows_[{model, version}];
  w.outcomes.push_back(correct);
  w.correct += correct ? 1 : 0;
  if (w.outcomes.size() > window_) {
    w.correct -= w.outcomes.front() ? 1 : 0;
    w.outcomes.pop_front();
  }
  return static_cast<double>(w.correct) / static_cast<double>(w.outcomes.size());
}

}  // namespace textclf::runtime
