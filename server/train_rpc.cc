// Train: collects the streamed examples, runs the job on the training pool, relays its progress,
// and makes sure a client that goes away leaves nothing behind.
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/jobs/published_versions.h"
#include "core/jobs/training_job.h"
#include "core/jobs/example_collector.h"
#include "core/registry/repository.h"
#include "server/classifier_service.h"
#include "server/call_note.h"
#include "server/grpc_status.h"
#include "server/import_paths.h"
#include "server/job_stream.h"
#include "server/upload_limits.h"

namespace textclf::server {
namespace {

absl::StatusOr<const FamilyDescriptor*> ValidateStart(const FamilyTable& families, const v1::TrainStart& start) {
  if (absl::Status s = registry::ValidateModelName(start.model()); !s.ok()) return s;
  auto family = families.Find(start.family());
  if (!family.ok()) return family.status();
  const auto config_case = start.config().family_config_case();
  if (config_case != v1::ModelConfig::FAMILY_CONFIG_NOT_SET && config_case != (*family)->config_case) {
    return absl::InvalidArgumentError(absl::StrCat("the config is for another family than ", std::string((*family)->name)));
  }
  return family;
}

}  // namespace

grpc::Status ClassifierService::Train(grpc::ServerContext* context,
                                      grpc::ServerReaderWriter<v1::TrainResponse, v1::TrainRequest>* stream) {
  std::unique_ptr<StreamWatchdog::Watch> watch = deps_.watchdog->Arm(context);
  v1::TrainRequest request;
  if (!stream->Read(&request)) {
    return StreamEnded(*watch, deps_.watchdog->idle_timeout(),
                       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the stream ended before a TrainStart"));
  }
  if (!request.has_start()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be a TrainStart");
  }
  v1::TrainStart start = request.start();
  NoteTarget(start.model());
  absl::StatusOr<const FamilyDescriptor*> family = ValidateStart(deps_.models->families(), start);
  if (!family.ok()) return ToGrpcStatus(family.status());
  if (absl::Status s = ResolveImportPaths(deps_.import_dir, start.mutable_config()); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = CheckTrainingMemory(**family, start.config(), deps_.limits.max_job_memory_bytes()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  // The job's place is taken before any example is read: a busy server refuses the upload at
  // once instead of buffering data it cannot train on.
  absl::StatusOr<JobPool::Slot> slot = deps_.jobs->Reserve("train");
  if (!slot.ok()) return ToGrpcStatus(slot.status());

  const TrainingLimits limits = UploadLimits(deps_.limits);
  // The examples' memory stays charged until the job is done with them.
  auto account = std::make_shared<UploadBudget::Account>(deps_.uploads);
  ExampleCollector builder(std::vector<std::string>(start.class_names().begin(), start.class_names().end()),
                             limits, (*family)->examples, account.get());
  while (stream->Read(&request)) {
    watch->Touch();
    if (request.has_start()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "TrainStart may only be the first message");
    }
    if (absl::Status s = builder.Add(request.batch()); !s.ok()) return ToGrpcStatus(s);
  }
  if (watch->fired() || context->IsCancelled()) {
    return StreamEnded(*watch, deps_.watchdog->idle_timeout(),
                       grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled"));
  }
  watch.reset();  // from here the client waits for progress; the job may take hours
  auto data = builder.Finish();
  if (!data.ok()) return ToGrpcStatus(data.status());

  auto shared_data = std::make_shared<TrainingSet>(std::move(*data));
  registry::ModelManager* models = deps_.models;
  ThreadPool* pool = deps_.cpu_pool;
  auto ran = RunJobWithProgress<TrainingOutcome>(
      *deps_.jobs, std::move(*slot), JobLabel{"train", start.model(), ThisCall().caller}, *context, *stream,
      [=](const CancellationToken& cancel, const ProgressFn& progress) {
        (void)account;  // held until the job is done with the examples
        return RunTrainingJob(start, *shared_data, *models, *pool, cancel, progress);
      });
  const bool client_gone = ran.client_gone;
  absl::StatusOr<TrainingOutcome>& outcome = ran.outcome;
  if (!outcome.ok()) {
    if (client_gone) return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the training");
    return ToGrpcStatus(outcome.status());
  }
  const int64_t version = outcome->manifest.version();
  NoteTarget(start.model(), version);
  // Taken back unless the client hears of it: a client that went away between publishing and
  // hearing of it never learned of this version.
  PublishedVersions published(*deps_.models, start.model());
  published.Add(version);
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
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the training");
  }
  published.Keep();
  return grpc::Status::OK;
}

}  // namespace textclf::server
