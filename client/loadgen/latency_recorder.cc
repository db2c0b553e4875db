// Appending to a window's record.
#include "client/loadgen/latency_recorder.h"

#include <algorithm>

namespace textclf::loadgen {

void LatencyRecorder::Sent(Clock::time_point when) {
  ++sent_;
  first_sent_ = std::min(first_sent_, when);
}

void LatencyRecorder::Answered(const Sample& sample, Clock::time_point when) {
  samples_.push_back(sample);
  last_answered_ = std::max(last_answered_, when);
}

}  // namespace textclf::loadgen
