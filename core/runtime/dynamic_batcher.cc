#include "core/runtime/dynamic_batcher.h"

#include <algorithm>
#include <cstring>
#include <future>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"
#include "core/common/warnings.h"

namespace textclf::runtime {
namespace {

int64_t Micros(Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

}  // namespace

DynamicBatcher::DynamicBatcher(std::shared_ptr<const Model> model, BatchingPolicy policy, std::vector<Device> instances,
                               RuntimeObserver* observer, DeviceContextFactory make_context)
    : model_(std::move(model)),
      policy_(std::move(policy)),
      instances_(std::move(instances)),
      observer_(observer),
      make_context_(std::move(make_context)) {
  if (instances_.empty()) instances_.push_back(Device{});
  for (size_t i = 0; i < instances_.size(); ++i) instance_threads_.emplace_back([this, i] { InstanceLoop(i); });
  dispatcher_ = std::thread([this] { DispatchLoop(); });
}

DynamicBatcher::~DynamicBatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  dispatch_cv_.notify_all();
  dispatcher_.join();  // returns once every queued input is in a batch
  instance_cv_.notify_all();
  for (auto& t : instance_threads_) t.join();  // after running the last batches
}

size_t DynamicBatcher::queued_inputs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_inputs_;
}

absl::Status DynamicBatcher::Score(std::span<const ModelInput> inputs, v1::Priority priority,
                                   std::function<bool()> is_cancelled, ScoreMatrix* out) {
  std::promise<void> done;
  absl::Status status;
  RETURN_IF_ERROR(Submit(inputs, priority, std::move(is_cancelled),
                         [&](const absl::Status& s, ScoreMatrix& scores) {
                           status = s;
                           if (s.ok()) *out = std::move(scores);
                           done.set_value();
                         }));
  done.get_future().wait();
  return status;
}

absl::Status DynamicBatcher::Submit(std::span<const ModelInput> inputs, v1::Priority priority, ScoredFn done) {
  return Submit(inputs, priority, {}, std::move(done));
}

absl::Status DynamicBatcher::Submit(std::span<const ModelInput> inputs, v1::Priority priority,
                                    std::function<bool()> is_cancelled, ScoredFn done) {
  auto request = std::make_shared<InferenceRequest>();
  request->inputs.assign(inputs.begin(), inputs.end());
  request->priority = priority;
  if (is_cancelled) request->is_cancelled = std::move(is_cancelled);
  request->on_done = [done = std::move(done)](InferenceRequest& r) { done(r.status, r.results); };
  return Enqueue(std::move(request));
}

absl::Status DynamicBatcher::Enqueue(std::shared_ptr<InferenceRequest> request) {
  const size_t n = request->inputs.size();
  if (n == 0) return absl::InvalidArgumentError("the request has no inputs");
  request->enqueued_at = Clock::now();
  if (request->deadline == Clock::time_point::max() && policy_.default_timeout_ms > 0) {
    request->deadline = request->enqueued_at + std::chrono::milliseconds(policy_.default_timeout_ms);
  }
  request->results.Resize(n, model_->num_classes());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      return absl::UnavailableError(absl::StrCat("version ", model_->version(), " of model \"", model_->name(),
                                                 "\" is being unloaded; retry"));
    }
    if (queued_inputs_ + n > static_cast<size_t>(policy_.max_queue_size)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the queue of model \"", model_->name(), "\" version ", model_->version(), " is full (", queued_inputs_,
          " inputs waiting, this request has ", n, ", the limit is ", policy_.max_queue_size,
          "); retry later or raise batching.max_queue_size"));
    }
    request->in_queue = true;
    request->holds.store(1);  // its place in the queue
    (request->priority == v1::BULK ? bulk_ : interactive_).push_back(request);
    queued_inputs_ += n;
  }
  if (observer_ != nullptr) observer_->OnPending(*model_, +1);
  dispatch_cv_.notify_one();
  return absl::OkStatus();
}

std::deque<std::shared_ptr<InferenceRequest>>& DynamicBatcher::PickQueueLocked(Clock::time_point now) {
  if (interactive_.empty()) return bulk_;
  // Bulk work waits for a quiet moment, but not forever.
  if (!bulk_.empty() && now - bulk_.front()->enqueued_at >= std::chrono::microseconds(policy_.bulk_starvation_us)) {
    return bulk_;
  }
  return interactive_;
}

bool DynamicBatcher::ReadyLocked(Clock::time_point now, Clock::time_point* wake) {
  const auto& queue = PickQueueLocked(now);
  if (queue.empty()) return false;
  if (!policy_.enabled || stopping_) return true;
  size_t pending = 0;
  for (const auto& r : queue) {
    pending += r->inputs.size() - r->next_input;
    if (pending >= static_cast<size_t>(policy_.max_batch_size)) return true;
  }
  if (!policy_.preferred_batch_sizes.empty() && pending >= static_cast<size_t>(policy_.preferred_batch_sizes.front())) {
    return true;
  }
  const Clock::time_point due = queue.front()->enqueued_at + std::chrono::microseconds(policy_.max_queue_delay_us);
  if (now >= due) return true;
  *wake = due;
  if (&queue == &interactive_ && !bulk_.empty()) {
    *wake = std::min(*wake, bulk_.front()->enqueued_at + std::chrono::microseconds(policy_.bulk_starvation_us));
  }
  return false;
}

DynamicBatcher::Batch DynamicBatcher::FormBatchLocked(Clock::time_point now,
                                                      std::vector<std::shared_ptr<InferenceRequest>>* dropped) {
  auto& queue = PickQueueLocked(now);
  size_t pending = 0;
  for (const auto& r : queue) pending += r->inputs.size() - r->next_input;
  size_t target = std::min(pending, static_cast<size_t>(policy_.max_batch_size));
  if (pending < static_cast<size_t>(policy_.max_batch_size)) {
    // Leave at the largest preferred size reached, when one is.
    for (auto it = policy_.preferred_batch_sizes.rbegin(); it != policy_.preferred_batch_sizes.rend(); ++it) {
      if (pending >= static_cast<size_t>(*it)) {
        target = static_cast<size_t>(*it);
        break;
      }
    }
  }
  Batch batch;
  while (!queue.empty() && (batch.size < target || !policy_.enabled)) {
    std::shared_ptr<InferenceRequest> r = queue.front();
    const size_t remaining = r->inputs.size() - r->next_input;
    const bool expired = now >= r->deadline;
    if (expired || r->failed.load() || r->is_cancelled()) {
      // Never computed for nobody: what is left of it is dropped here (a failed request is
      // normally taken out by the slice that failed; this catches one met before that).
      queue.pop_front();
      queued_inputs_ -= remaining;
      r->in_queue = false;
      {
        std::lock_guard<std::mutex> status_lock(r->status_mu);
        if (r->status.ok()) {
          r->status = expired ? absl::DeadlineExceededError("the request's deadline passed while it was queued")
                              : absl::CancelledError("the client cancelled the request");
        }
      }
      r->failed.store(true);
      dropped->push_back(std::move(r));  // its queue hold is released outside the lock
      continue;
    }
    const size_t take = policy_.enabled ? std::min(remaining, target - batch.size) : remaining;
    batch.slices.push_back(Slice{r, r->next_input, take});
    batch.size += take;
    r->next_input += take;
    r->holds.fetch_add(1);  // the slice's hold, taken before the queue's may go
    queued_inputs_ -= take;
    if (r->next_input == r->inputs.size()) {
      queue.pop_front();
      r->in_queue = false;
      r->holds.fetch_sub(1);  // never the last: the slice still holds it
    }
    if (!policy_.enabled) break;  // one request per batch
  }
  return batch;
}

void DynamicBatcher::DispatchLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_ && interactive_.empty() && bulk_.empty()) break;
    const Clock::time_point now = Clock::now();
    Clock::time_point wake = Clock::time_point::max();
    if (idle_instances_ > 0 && ReadyLocked(now, &wake)) {
      std::vector<std::shared_ptr<InferenceRequest>> dropped;
      Batch batch = FormBatchLocked(now, &dropped);
      if (batch.size > 0) {
        --idle_instances_;
        ready_.push_back(std::move(batch));
        instance_cv_.notify_one();
      }
      if (!dropped.empty()) {
        lock.unlock();
        for (auto& r : dropped) Release(*r);
        lock.lock();
      }
      continue;
    }
    if (wake == Clock::time_point::max()) {
      dispatch_cv_.wait(lock);
    } else {
      dispatch_cv_.wait_until(lock, wake);
    }
  }
  dispatcher_done_ = true;
  instance_cv_.notify_all();
}

void DynamicBatcher::InstanceLoop(size_t instance) {
  // The instance's device state lives on its own thread, e.g. its CUDA stream as the thread's
  // current stream, so that instances on different devices never wait for each other.
  Device device = instances_[instance];
  std::unique_ptr<DeviceContext> context;
  absl::Status instance_status;
  try {
    if (make_context_) context = make_context_(device);
  } catch (const std::exception& e) {
    // Nothing may escape a runtime thread: the instance stays, and fails its batches saying why.
    instance_status = absl::InternalError(absl::StrCat("instance ", instance, " of model \"", model_->name(),
                                                       "\" version ", model_->version(),
                                                       " could not prepare its device: ", e.what()));
  }
  device.context = context.get();
  for (;;) {
    Batch batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++idle_instances_;
      dispatch_cv_.notify_one();
      instance_cv_.wait(lock, [this] { return !ready_.empty() || dispatcher_done_; });
      if (ready_.empty()) return;
      batch = std::move(ready_.front());
      ready_.pop_front();
    }
    RunBatch(batch, device, instance_status);
  }
}

void DynamicBatcher::RunBatch(Batch& batch, const Device& device, const absl::Status& instance_status) {
  thread_local std::vector<ModelInput> inputs;
  thread_local ScoreMatrix out;
  inputs.clear();
  for (const Slice& s : batch.slices) {
    inputs.insert(inputs.end(), s.request->inputs.begin() + s.begin, s.request->inputs.begin() + s.begin + s.count);
  }
  const Clock::time_point start = Clock::now();
  for (const Slice& s : batch.slices) {
    if (s.begin == 0) s.request->queue_us = Micros(start - s.request->enqueued_at);
  }
  absl::Status status = instance_status.ok() ? RunModel(inputs, device, &out) : instance_status;
  const Clock::duration compute = Clock::now() - start;
  if (observer_ != nullptr) {
    const double seconds = std::chrono::duration<double>(compute).count();
    observer_->OnBatch(*model_, batch.size, seconds);
    thread_local std::vector<std::string> traces;
    traces.clear();
    for (const Slice& s : batch.slices) {
      if (!s.request->trace_id.empty()) traces.push_back(s.request->trace_id);
    }
    if (!traces.empty()) observer_->OnBatchTraced(*model_, batch.size, seconds, traces);
  }
  size_t row = 0;
  for (Slice& s : batch.slices) {
    InferenceRequest& r = *s.request;
    if (status.ok()) {
      const size_t cols = out.cols;
      std::memcpy(r.results.score_row(s.begin), out.score_row(row), s.count * cols * sizeof(float));
      std::memcpy(r.results.probability_row(s.begin), out.probability_row(row), s.count * cols * sizeof(float));
    }
    row += s.count;
    {
      std::lock_guard<std::mutex> lock(r.status_mu);
      r.compute_us += Micros(compute);
      if (!status.ok() && r.status.ok()) r.status = status;
    }
    if (!status.ok()) {
      r.failed.store(true);
      Unqueue(r);  // what is left of it is not computed
    }
    Release(r);
  }
  batch.slices.clear();  // release the requests before waiting for the next batch
}

absl::Status DynamicBatcher::RunModel(std::span<const ModelInput> inputs, const Device& device, ScoreMatrix* out) {
  absl::Status status;
  // The barrier between model code and the runtime thread: an exception (libtorch's c10::Error,
  // std::bad_alloc) fails this batch's requests and the instance carries on.
  try {
    status = model_->Run(inputs, device, out);
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat("model \"", model_->name(), "\" version ", model_->version(),
                                              " failed on a batch of ", inputs.size(), ": ", e.what()));
  } catch (...) {
    status = absl::InternalError(absl::StrCat("model \"", model_->name(), "\" version ", model_->version(),
                                              " failed on a batch of ", inputs.size(), " (unknown exception)"));
  }
  if (status.ok() && (out->rows != inputs.size() || out->cols != static_cast<size_t>(model_->num_classes()))) {
    status = absl::InternalError(absl::StrCat("model \"", model_->name(), "\" version ", model_->version(),
                                              " returned ", out->rows, "x", out->cols, " scores for ", inputs.size(),
                                              " inputs of ", model_->num_classes(), " classes"));
  }
  return status;
}

void DynamicBatcher::Unqueue(InferenceRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!request.in_queue) return;
    auto& queue = request.priority == v1::BULK ? bulk_ : interactive_;
    auto it = std::find_if(queue.begin(), queue.end(), [&](const auto& r) { return r.get() == &request; });
    if (it == queue.end()) return;
    queued_inputs_ -= request.inputs.size() - request.next_input;
    queue.erase(it);
    request.in_queue = false;
  }
  Release(request);  // the queue's hold; never the last, the caller holds a slice
}

void DynamicBatcher::Release(InferenceRequest& request) {
  if (request.holds.fetch_sub(1) == 1) Finish(request);
}

void DynamicBatcher::Finish(InferenceRequest& request) {
  if (request.completed.exchange(true)) return;
  if (observer_ != nullptr) {
    thread_local std::vector<float> top;
    top.clear();
    if (request.status.ok()) {
      for (size_t i = 0; i < request.results.rows; ++i) {
        top.push_back(request.results.probability_row(i)[request.results.Argmax(i)]);
      }
    }
    const double total = std::chrono::duration<double>(Clock::now() - request.enqueued_at).count();
    observer_->OnRequestDone(*model_, request.status, request.inputs.size(), total, request.queue_us / 1e6,
                             request.compute_us / 1e6, top);
    observer_->OnPending(*model_, -1);
  }
  if (!request.on_done) return;
  try {
    request.on_done(request);
  } catch (const std::exception& e) {
    // The caller's answer failed (e.g. an allocation); the runtime thread must survive it.
    Warn("answer_failed", absl::StrCat("answering a request of model \"", model_->name(), "\" failed: ", e.what()));
  }
}

}  // namespace textclf::runtime
