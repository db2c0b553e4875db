// Evaluate: classifies streamed, labelled examples (texts or tensors, by the model's family) batch
// by batch as they arrive, through the version's queue, and records the metrics with the version.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/stopwatch.h"
#include "core/eval/model_evaluation.h"
#include "core/jobs/example_collector.h"
#include "core/model/names.h"
#include "google/protobuf/util/time_util.h"
#include "server/classifier_service.h"
#include "server/grpc_status.h"
#include "server/upload_limits.h"

namespace textclf::server {

grpc::Status ClassifierService::Evaluate(grpc::ServerContext* context,
                                         grpc::ServerReader<v1::EvaluateRequest>* reader,
                                         v1::EvaluateResponse* response) {
  std::unique_ptr<StreamWatchdog::Watch> idle = deps_.watchdog->Arm(context);
  v1::EvaluateRequest request;
  if (!reader->Read(&request) || !request.has_start()) {
    return StreamEnded(*idle, deps_.watchdog->idle_timeout(),
                       grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be an EvaluateStart"));
  }
  const v1::EvaluateStart start = request.start();
  if (start.version() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "version must be positive, or 0 for the latest loaded");
  }
  // The name becomes a key of metrics.json and a metric label; refuse a bad one before any work.
  const std::string dataset = start.dataset().empty() ? "eval" : start.dataset();
  if (absl::Status s = ValidateDatasetName(dataset); !s.ok()) return ToGrpcStatus(s);
  auto loaded = deps_.models->Find(start.model(), start.version());
  if (!loaded.ok()) return ToGrpcStatus(loaded.status());
  const Model& model = *loaded->model;
  auto family = deps_.models->families().Find(model.manifest().family());
  if (!family.ok()) return ToGrpcStatus(family.status());
  // Every example counts, whatever split its batch names; a batch is kept only until it is scored.
  ExampleCollector collector =
      ExampleCollector::ForModel(model, (*family)->examples, "Evaluate", /*splits=*/{}, UploadLimits(deps_.limits));
  eval::MetricsAccumulator metrics = eval::AccumulatorFor(model);
  Stopwatch watch;
  int64_t seen = 0;
  // Evaluation traffic goes through the model's queue as BULK work, so that it never holds up
  // interactive requests for long.
  const eval::ScoreFn score = [&](std::span<const ModelInput> inputs, ScoreMatrix* out) {
    idle->Pause();  // the batch's time in the queue and compute is the server's, not the client's
    absl::Status s = loaded->Score(inputs, v1::BULK, [context] { return context->IsCancelled(); }, out);
    idle->Resume();
    return s;
  };
  while (reader->Read(&request)) {
    idle->Touch();
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
    if (!request.has_batch()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "EvaluateStart may only be the first message");
    }
    if (absl::Status s = collector.Add(request.batch()); !s.ok()) return ToGrpcStatus(s);
    absl::StatusOr<TrainingSet> batch = collector.TakeEval();
    if (!batch.ok()) return ToGrpcStatus(batch.status());
    std::vector<ModelInput> inputs;
    inputs.reserve(batch->eval_labels.size());
    for (const std::string& text : batch->eval_texts) inputs.push_back(ModelInput{text, nullptr});
    for (const v1::Tensor& tensor : batch->eval_tensors) inputs.push_back(ModelInput{{}, &tensor});
    seen += static_cast<int64_t>(inputs.size());
    if (inputs.empty()) continue;
    // The client's batch is one request: it is answered as a whole or refused as a whole.
    absl::Status ran = eval::AddPredictions(model, std::span<const ModelInput>(inputs), batch->eval_labels, score,
                                            inputs.size(), &metrics);
    if (!ran.ok()) return ToGrpcStatus(ran);
  }
  if (idle->fired()) {
    return StreamEnded(*idle, deps_.watchdog->idle_timeout(), grpc::Status(grpc::StatusCode::CANCELLED, ""));
  }
  if (seen == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no examples were sent; send at least one");
  }
  v1::EvalMetrics m = metrics.Finish();
  m.set_seconds(watch.seconds());
  m.set_examples_per_s(m.seconds() > 0 ? m.examples() / m.seconds() : 0);
  m.set_dataset(dataset);
  *m.mutable_evaluated_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
  // A read-only server (a serving replica of a volume it must not write) answers, records nothing.
  if (absl::Status s = deps_.read_only ? absl::OkStatus()
                                       : deps_.models->repository().RecordMetrics(model.name(), model.version(), m);
      !s.ok()) {
    if (absl::IsNotFound(s)) {
      return ToGrpcStatus(absl::NotFoundError(absl::StrCat("version ", model.version(), " of model \"", model.name(),
                                                           "\" was deleted while it was being evaluated; nothing was recorded")));
    }
    return ToGrpcStatus(s);
  }
  if (deps_.observer != nullptr) deps_.observer->OnEvaluation(model.name(), model.version(), m);
  response->set_model(model.name());
  response->set_version(model.version());
  *response->mutable_metrics() = std::move(m);
  return grpc::Status::OK;
}

}  // namespace textclf::server
