// Train: collects the streamed examples, runs the job on the training pool, relays its progress,
// and makes sure a client that goes away leaves nothing behind.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/families/families.h"
#include "core/jobs/training_job.h"
#include "core/jobs/training_set_builder.h"
#include "core/registry/repository.h"
#include "server/classifier_service.h"
#include "server/grpc_status.h"

namespace textclf::server {
namespace {

absl::Status ValidateStart(const v1::TrainStart& start) {
  if (absl::Status s = registry::ValidateModelName(start.model()); !s.ok()) return s;
  auto family = FindFamily(start.family());
  if (!family.ok()) return family.status();
  const auto config_case = start.config().family_config_case();
  const bool matches = config_case == v1::ModelConfig::FAMILY_CONFIG_NOT_SET ||
                       (start.family() == v1::ZEST && config_case == v1::ModelConfig::kZest) ||
                       (start.family() == v1::XCLASS && config_case == v1::ModelConfig::kXclass) ||
                       (start.family() == v1::TEXT_CNN && config_case == v1::ModelConfig::kTextCnn) ||
                       (start.family() == v1::IMAGE_CNN && config_case == v1::ModelConfig::kImageCnn) ||
                       (start.family() == v1::ENCODER_MLM && config_case == v1::ModelConfig::kEncoder);
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat("the config is for another family than ",
                                                   std::string(FamilyName(start.family()))));
  }
  return absl::OkStatus();
}

// Progress messages flow from the job's thread to the RPC's thread, which owns the stream.
struct JobChannel {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<v1::TrainProgress> progress;
  bool done = false;
  absl::StatusOr<TrainingOutcome> outcome = absl::UnknownError("not run");
};

}  // namespace

grpc::Status ClassifierService::Train(grpc::ServerContext* context,
                                      grpc::ServerReaderWriter<v1::TrainResponse, v1::TrainRequest>* stream) {
  v1::TrainRequest request;
  if (!stream->Read(&request)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the stream ended before a TrainStart");
  }
  if (!request.has_start()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be a TrainStart");
  }
  const v1::TrainStart start = request.start();
  if (absl::Status s = ValidateStart(start); !s.ok()) return ToGrpcStatus(s);

  TrainingLimits limits;
  limits.max_total_bytes = deps_.limits.max_train_bytes();
  limits.max_text_bytes = static_cast<size_t>(deps_.limits.max_text_bytes());
  TrainingSetBuilder builder(std::vector<std::string>(start.class_names().begin(), start.class_names().end()),
                             limits, RulesFor(start.family()));
  while (stream->Read(&request)) {
    if (request.has_start()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "TrainStart may only be the first message");
    }
    if (absl::Status s = builder.Add(request.batch()); !s.ok()) return ToGrpcStatus(s);
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
  auto data = builder.Finish();
  if (!data.ok()) return ToGrpcStatus(data.status());

  auto channel = std::make_shared<JobChannel>();
  auto cancel = std::make_shared<CancellationToken>();
  auto shared_data = std::make_shared<TrainingSet>(std::move(*data));
  registry::ModelManager* models = deps_.models;
  ThreadPool* pool = deps_.cpu_pool;
  absl::Status submitted = deps_.jobs->Submit([=] {
    ProgressFn progress = [channel](std::string_view stage, double fraction, std::string_view message) {
      v1::TrainProgress p;
      p.set_stage(std::string(stage));
      p.set_fraction(fraction);
      p.set_message(std::string(message));
      std::lock_guard<std::mutex> lock(channel->mu);
      // A slow client sees the latest progress rather than an ever longer backlog.
      if (channel->progress.size() > 64) channel->progress.pop_front();
      channel->progress.push_back(std::move(p));
      channel->cv.notify_one();
    };
    auto outcome = cancel->cancelled()
                       ? absl::StatusOr<TrainingOutcome>(cancel->Check())
                       : RunTrainingJob(start, *shared_data, *models, *pool, *cancel, progress);
    std::lock_guard<std::mutex> lock(channel->mu);
    channel->outcome = std::move(outcome);
    channel->done = true;
    channel->cv.notify_one();
  });
  if (!submitted.ok()) return ToGrpcStatus(submitted);

  bool client_gone = false;
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
      v1::TrainResponse response;
      *response.mutable_progress() = std::move(p);
      if (!client_gone && !stream->Write(response)) client_gone = true;
    }
    if (context->IsCancelled()) client_gone = true;
    if (client_gone) cancel->Cancel();
    if (done) break;
  }

  absl::StatusOr<TrainingOutcome>& outcome = channel->outcome;
  if (!outcome.ok()) {
    if (client_gone) return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the training");
    return ToGrpcStatus(outcome.status());
  }
  const int64_t version = outcome->manifest.version();
  v1::TrainResponse response;
  v1::TrainResult* result = response.mutable_result();
  result->set_version(version);
  result->set_train_seconds(outcome->seconds);
  if (outcome->eval) {
    *result->mutable_eval_metrics() = *outcome->eval;
    if (deps_.observer != nullptr) deps_.observer->OnEvaluation(start.model(), version, *outcome->eval);
  }
  if (auto info = deps_.models->Describe(start.model()); info.ok()) *result->mutable_model() = *info;
  if (client_gone || context->IsCancelled() || !stream->Write(response)) {
    // The client went away between publishing and hearing of it: it never learned of this
    // version, so take it back rather than leave an orphan.
    (void)deps_.models->Delete(start.model(), version);
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the training");
  }
  return grpc::Status::OK;
}

}  // namespace textclf::server
