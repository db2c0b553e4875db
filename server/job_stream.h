// The long-running streamed RPCs (Train, Quantize) share one shape: the job runs on the training
// job pool while the RPC's thread, which owns the stream, relays its progress; a client that goes
// away cancels the job. RunJobWithProgress is that shape, once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "core/common/cancellation.h"
#include "core/jobs/job_barrier.h"
#include "core/jobs/job_pool.h"
#include "core/model/training.h"
#include "server/logging/log.h"
#include "textclf/v1/service.pb.h"

namespace textclf::server {

template <typename Outcome>
struct JobStreamResult {
  absl::StatusOr<Outcome> outcome = absl::UnknownError("not run");
  // The client cancelled or stopped reading: the job was cancelled, and whatever it published
  // must be taken back by the caller, since the client never heard of it.
  bool client_gone = false;
};

// Runs `job` in its reserved place on the job pool and writes each progress report to `stream` as
// a Response's `progress` until the job ends. Waits for the job even when the client has gone, so
// nothing the job uses outlives the call. An exception that escapes the job (libtorch's
// c10::Error when an allocation is refused, std::length_error from a malformed file) becomes an
// INTERNAL outcome naming the stage it was in; the server carries on.
// What the log says of a job: its kind ("train", "quantize"), the model it makes and who asked.
struct JobLabel {
  std::string kind;
  std::string model;
  std::string caller;
};

template <typename Outcome, typename Response, typename Request>
JobStreamResult<Outcome> RunJobWithProgress(
    JobPool& jobs, JobPool::Slot slot, const JobLabel& label, grpc::ServerContext& context,
    grpc::ServerReaderWriter<Response, Request>& stream,
    std::function<absl::StatusOr<Outcome>(const CancellationToken&, const ProgressFn&)> job) {
  // Progress flows from the job's thread to this one.
  struct Channel {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<v1::TrainProgress> progress;
    std::string stage = "start";  // the latest stage reported
    bool done = false;
    absl::StatusOr<Outcome> outcome = absl::UnknownError("not run");
  };
  auto channel = std::make_shared<Channel>();
  auto cancel = std::make_shared<CancellationToken>();
  jobs.Submit(std::move(slot), [channel, cancel, label, job = std::move(job)] {
    const auto started = std::chrono::steady_clock::now();
    logging::Info("job_started", {{"kind", label.kind}, {"model", label.model}, {"caller", label.caller}});
    ProgressFn progress = [channel, &label](std::string_view stage, double fraction, std::string_view message) {
      v1::TrainProgress p;
      p.set_stage(std::string(stage));
      p.set_fraction(fraction);
      p.set_message(std::string(message));
      std::lock_guard<std::mutex> lock(channel->mu);
      if (channel->stage != stage) {
        // One line per stage, not per report: a training reports thousands of fractions.
        logging::Info("job_stage", {{"kind", label.kind},
                                    {"model", label.model},
                                    {"stage", std::string(stage)},
                                    {"message", std::string(message)}});
      }
      channel->stage = std::string(stage);
      // A slow client sees the latest progress rather than an ever longer backlog.
      if (channel->progress.size() > 64) channel->progress.pop_front();
      channel->progress.push_back(std::move(p));
      channel->cv.notify_one();
    };
    absl::StatusOr<Outcome> outcome = RunBehindBarrier<Outcome>(
        [&]() -> absl::StatusOr<Outcome> {
          if (cancel->cancelled()) return cancel->Check();
          return job(*cancel, progress);
        },
        [&] {
          std::lock_guard<std::mutex> lock(channel->mu);
          return channel->stage;
        });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    nlohmann::json fields = {{"kind", label.kind},
                             {"model", label.model},
                             {"caller", label.caller},
                             {"duration_s", seconds},
                             {"code", std::string(absl::StatusCodeToString(outcome.status().code()))}};
    if (!outcome.ok()) fields["message"] = std::string(outcome.status().message());
    logging::Log(outcome.ok() ? logging::Level::kInfo : logging::Level::kWarning, "job_finished", fields);
    std::lock_guard<std::mutex> lock(channel->mu);
    channel->outcome = std::move(outcome);
    channel->done = true;
    channel->cv.notify_one();
  });

  JobStreamResult<Outcome> result;
  for (;;) {
    std::deque<v1::TrainProgress> pending;
    bool done;
    {
      std::unique_lock<std::mutex> lock(channel->mu);
      channel->cv.wait_for(lock, std::chrono::milliseconds(100),
                           [&] { return channel->done || !channel->progress.empty(); });
      pending.swap(channel->progress);
      done = channel->done;
    }
    for (auto& p : pending) {
      Response response;
      *response.mutable_progress() = std::move(p);
      if (!result.client_gone && !stream.Write(response)) result.client_gone = true;
    }
    if (context.IsCancelled()) result.client_gone = true;
    if (result.client_gone) cancel->Cancel();
    if (done) break;
  }
  std::lock_guard<std::mutex> lock(channel->mu);
  result.outcome = std::move(channel->outcome);
  return result;
}

}  // namespace textclf::server
