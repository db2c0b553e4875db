// One request as the runtime sees it: the inputs (views into the caller's message, which must
// outlive the request), its deadline and cancellation, and where the results go.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "core/model/model.h"
#include "textclf/v1/inputs.pb.h"
#include "textclf/v1/model.pb.h"

namespace textclf::runtime {

using Clock = std::chrono::steady_clock;

struct InferenceRequest {
  std::vector<ModelInput> inputs;
  v1::Priority priority = v1::INTERACTIVE;
  // Clock::time_point::max() means "the model's default timeout from enqueue".
  Clock::time_point deadline = Clock::time_point::max();
  std::function<bool()> is_cancelled = [] { return false; };
  // The W3C trace id the client sent (may be empty): the batches that serve the request name it.
  std::string trace_id;
  // Called exactly once, on a runtime thread, when every input is scored or the request failed.
  std::function<void(InferenceRequest&)> on_done;

  // Filled by the runtime.
  ScoreMatrix results;  // rows follow `inputs`
  absl::Status status;
  Clock::time_point enqueued_at;
  int64_t queue_us = 0;    // enqueue to the start of its first batch
  int64_t compute_us = 0;  // time of the batches it was part of

  // Bookkeeping of the batcher. A request is answered exactly once, when nothing of it is queued
  // or running any more: `holds` counts one for its place in a queue and one per slice in a
  // batch, and whoever drops the last hold finishes it. The caller's message (which the inputs
  // view) may be freed by the answer, so nothing may touch the inputs after that.
  size_t next_input = 0;                 // inputs handed to batches so far (under the batcher's lock)
  bool in_queue = false;                 // still in a queue (under the batcher's lock)
  std::atomic<int> holds{0};
  std::atomic<bool> failed{false};       // a slice failed: the rest is not computed
  std::atomic<bool> completed{false};
  std::mutex status_mu;
};

}  // namespace textclf::runtime
