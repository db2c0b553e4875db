// Quantize: the stream's front door to core/jobs/quantize_job.h. Collects the CALIBRATION and
// EVAL examples, runs the job on the training job pool, relays its progress, and takes the
// published versions back when the client leaves before hearing of them.
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/cnn/quantize_options.h"
#include "core/jobs/example_collector.h"
#include "core/jobs/published_versions.h"
#include "core/jobs/quantize_job.h"
#include "core/registry/repository.h"
#include "server/classifier_service.h"
#include "server/call_note.h"
#include "server/grpc_status.h"
#include "server/job_stream.h"
#include "server/upload_limits.h"

namespace textclf::server {

grpc::Status ClassifierService::Quantize(grpc::ServerContext* context,
                                         grpc::ServerReaderWriter<v1::QuantizeResponse, v1::QuantizeRequest>* stream) {
  std::unique_ptr<StreamWatchdog::Watch> watch = deps_.watchdog->Arm(context);
  v1::QuantizeRequest request;
  if (!stream->Read(&request) || !request.has_start()) {
    return StreamEnded(*watch, deps_.watchdog->idle_timeout(),
                       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be a QuantizeStart"));
  }
  auto resolved = cnn::ResolveQuantizeStart(request.start());
  if (!resolved.ok()) return ToGrpcStatus(resolved.status());
  const v1::QuantizeStart start = *resolved;
  NoteTarget(start.target_model());
  if (absl::Status s = registry::ValidateModelName(start.target_model()); !s.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("target_model: ", std::string(s.message())));
  }
  auto source_version = FindQuantizeSource(deps_.models->families(), deps_.models->repository(), start);
  if (!source_version.ok()) return ToGrpcStatus(source_version.status());
  const FamilyDescriptor* family = source_version->family;
  // The job's place before the source model is loaded and any example read (see Train).
  absl::StatusOr<JobPool::Slot> slot = deps_.jobs->Reserve("quantize");
  if (!slot.ok()) return ToGrpcStatus(slot.status());
  auto source = deps_.models->LoadDetached(start.model(), source_version->manifest.version());
  if (!source.ok()) return ToGrpcStatus(source.status());

  auto account = std::make_shared<UploadBudget::Account>(deps_.uploads);
  const TrainingLimits limits = UploadLimits(deps_.limits);
  ExampleCollector collector = ExampleCollector::ForModel(**source, family->examples, "Quantize",
                                                          {v1::CALIBRATION, v1::EVAL}, limits, account.get());
  watch->Touch();  // loading the source model was the server's time, not the client's
  while (stream->Read(&request)) {
    watch->Touch();
    if (request.has_start()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "QuantizeStart may only be the first message");
    }
    if (absl::Status s = collector.Add(request.batch()); !s.ok()) return ToGrpcStatus(s);
  }
  if (watch->fired() || context->IsCancelled()) {
    return StreamEnded(*watch, deps_.watchdog->idle_timeout(),
                       grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled"));
  }
  watch.reset();  // from here the client waits for progress
  auto examples = collector.Finish();
  if (!examples.ok()) return ToGrpcStatus(examples.status());
  if (examples->calibration_labels.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "no CALIBRATION examples were sent; send labelled examples in CALIBRATION batches");
  }

  auto shared_examples = std::make_shared<TrainingSet>(std::move(*examples));
  registry::ModelManager* models = deps_.models;
  std::shared_ptr<const Model> model = *source;
  auto ran = RunJobWithProgress<QuantizeOutcome>(
      *deps_.jobs, std::move(*slot), JobLabel{"quantize", start.target_model(), ThisCall().caller}, *context, *stream,
      [=](const CancellationToken& cancel, const ProgressFn& progress) {
        (void)account;  // held until the job is done with the examples
        return RunQuantizeJob(*family, start, *model, *shared_examples, *models, cancel, progress);
      });
  const bool client_gone = ran.client_gone;
  absl::StatusOr<QuantizeOutcome>& outcome = ran.outcome;
  if (!outcome.ok()) {
    if (client_gone) return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the quantization");
    return ToGrpcStatus(outcome.status());
  }
  // Taken back unless the client hears of them.
  PublishedVersions published(*deps_.models, start.target_model());
  for (int64_t version : outcome->versions) published.Add(version);
  v1::QuantizeResponse response;
  v1::QuantizeResult* result = response.mutable_result();
  for (int64_t version : outcome->versions) result->add_versions(version);
  *result->mutable_report() = outcome->report;
  if (auto info = deps_.models->Describe(start.target_model()); info.ok()) *result->add_models() = *info;
  if (client_gone || context->IsCancelled() || !stream->Write(response)) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the quantization");
  }
  published.Keep();
  return grpc::Status::OK;
}

}  // namespace textclf::server
