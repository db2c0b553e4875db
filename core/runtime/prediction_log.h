// Recent predictions by request id, so that a label arriving later (Feedback) can be matched to
// what the model said, and the rolling online accuracy of each model version.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace textclf::runtime {

class PredictionLog {
 public:
  // Keeps the predictions of about `max_texts` recent texts; accuracy over the last `window`
  // feedbacks of each model version.
  PredictionLog(size_t max_texts, size_t window);

  struct Entry {
    std::string model;
    int64_t version = 0;
    std::vector<int> predicted;  // class index per text of the request
  };

  void Record(const std::string& request_id, Entry entry);
  // The prediction for text `index` of a recent request, if still kept.
  std::optional<Entry> Find(const std::string& request_id) const;

  // Counts one feedback outcome; returns the version's accuracy over its recent window.
  double AddOutcome(const std::string& model, int64_t version, bool correct);

 private:
  size_t max_texts_;
  size_t window_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> order_;  // oldest first
  size_t texts_ = 0;
  struct Window {
    std::deque<bool> outcomes;
    size_t correct = 0;
  };
  std::map<std::pair<std::string, int64_t>, Window> windows_;
};

}  // namespace textclf::runtime
