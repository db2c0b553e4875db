// Evaluate: classifies streamed, labelled examples batch by batch as they arrive, and records the
// metrics with the model version.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/stopwatch.h"
#include "core/eval/model_evaluation.h"
#include "core/runtime/inference_request.h"
#include "core/model/input_validation.h"
#include "core/model/names.h"
#include "google/protobuf/util/time_util.h"
#include "server/classifier_service.h"
#include "server/grpc_status.h"

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
  eval::MetricsAccumulator metrics = eval::AccumulatorFor(model);
  const int positive = model.positive_class();
  Stopwatch watch;
  std::vector<std::string> texts;
  std::vector<int> labels;
  int64_t seen = 0;
  while (reader->Read(&request)) {
    idle->Touch();
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled");
    if (!request.has_batch()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "EvaluateStart may only be the first message");
    }
    texts.clear();
    labels.clear();
    for (const v1::Example& example : request.batch().examples()) {
      ++seen;
      const std::string what = absl::StrCat("example ", seen);
      if (absl::Status s = ValidateText(example.text(), deps_.limits.max_text_bytes(), what); !s.ok()) {
        return ToGrpcStatus(s);
      }
      const int label = model.ClassIndex(example.label());
      if (label < 0) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            absl::StrCat(what, " has label \"", example.label(), "\", which the model does not know; its classes are ",
                                         absl::StrJoin(model.manifest().classes(), ", ")));
      }
      texts.push_back(example.text());
      labels.push_back(label);
    }
    // Evaluation traffic goes through the model's queue as BULK work, so that it never holds up
    // interactive requests for long.
    auto job = std::make_shared<runtime::InferenceRequest>();
    job->priority = v1::BULK;
    job->is_cancelled = [context] { return context->IsCancelled(); };
    for (const std::string& text : texts) job->inputs.push_back(ModelInput{text, nullptr});
    if (job->inputs.empty()) continue;
    idle->Pause();  // the batch's time in the queue and compute is the server's, not the client's
    absl::Status ran = deps_.runtime->RunAndWait(*loaded, job);
    idle->Resume();
    if (!ran.ok()) return ToGrpcStatus(ran);
    for (size_t i = 0; i < job->results.rows; ++i) {
      metrics.Add(labels[i], static_cast<int>(job->results.Argmax(i)),
                  std::span<const float>(job->results.probability_row(i), job->results.cols),
                  positive >= 0 ? job->results.score_row(i)[positive] : 0.0);
    }
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
